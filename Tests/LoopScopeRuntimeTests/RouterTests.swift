import Testing
@testable import LoopScopeRuntime
@testable import LoopScopeAgent

@Suite struct RouterTests {
    func router() throws -> Router {
        try Router([
            ("GET", try RouteTemplate("/hello")),
            ("POST", try RouteTemplate("/hello")),
            ("GET", try RouteTemplate("/users/:id")),
            ("GET", try RouteTemplate("/users/:id/orders/:order")),
            ("GET", try RouteTemplate("/")),
        ])
    }

    @Test func matchesLiteralPathsByMethod() throws {
        let r = try router()
        #expect(r.match(method: "GET", uri: "/hello") == .found(route: 0, parameters: [:]))
        #expect(r.match(method: "POST", uri: "/hello?x=1") == .found(route: 1, parameters: [:]))
        #expect(r.match(method: "GET", uri: "/") == .found(route: 4, parameters: [:]))
    }

    @Test func extractsTemplateParameters() throws {
        let r = try router()
        #expect(r.match(method: "GET", uri: "/users/42") == .found(route: 2, parameters: ["id": "42"]))
        #expect(r.match(method: "GET", uri: "/users/7/orders/9?full=1") == .found(route: 3, parameters: ["id": "7", "order": "9"]))
    }

    @Test func toleratesTrailingAndDoubleSlashes() throws {
        let r = try router()
        #expect(r.match(method: "GET", uri: "/hello/") == .found(route: 0, parameters: [:]))
        #expect(r.match(method: "GET", uri: "//hello") == .found(route: 0, parameters: [:]))
    }

    @Test func reportsMethodNotAllowedWithTheAllowedMethods() throws {
        let r = try router()
        #expect(r.match(method: "DELETE", uri: "/hello") == .methodNotAllowed(allowed: ["GET", "POST"]))
        #expect(r.match(method: "PUT", uri: "/users/1") == .methodNotAllowed(allowed: ["GET"]))
    }

    @Test func reportsUnknownPathsAsNotFound() throws {
        let r = try router()
        #expect(r.match(method: "GET", uri: "/nope") == .notFound)
        #expect(r.match(method: "GET", uri: "/users") == .notFound)
        #expect(r.match(method: "GET", uri: "/users/1/orders") == .notFound)
    }

    @Test func rejectsDuplicateAndMalformedTemplates() throws {
        #expect(throws: RuntimeError.self) { try Router([("GET", try RouteTemplate("/a")), ("GET", try RouteTemplate("/a"))]) }
        #expect(throws: RuntimeError.self) { try RouteTemplate("no-slash") }
        #expect(throws: RuntimeError.self) { try RouteTemplate("/a/:") }
        #expect(throws: RuntimeError.self) { try RouteTemplate("/a/:x/:x") }
    }

    @Test func decodesQueryStrings() {
        #expect(QueryString.parse(uri: "/x?a=1&b=two%20words&c&d=a+b") == ["a": "1", "b": "two words", "c": "", "d": "a b"])
        #expect(QueryString.parse(uri: "/x") == [:])
    }
}
