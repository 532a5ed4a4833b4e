import Testing
import NIOPosix
import LoopScopeWire
@testable import LoopScopeAgent
@testable import LoopScopeRuntime

/// Errors kept per route, slow requests with their split, the error-rate diagnosis.
@Suite(.serialized) struct RequestLogTests {
    struct Refused: Error, CustomStringConvertible {
        var n: Int
        var description: String { "backend \(n) refused" }
    }

    func agent(_ configure: (inout AgentConfiguration) -> Void = { _ in }) async throws -> LoopScopeAgent {
        var config = AgentConfiguration(name: "log-test")
        config.control = nil
        configure(&config)
        return try await LoopScopeAgent.start(config, watching: MultiThreadedEventLoopGroup.singleton)
    }

    @Test func errorMessagesAreKeptPerRouteMergedAndBounded() async throws {
        let agent = try await agent()
        let route = agent.route(method: "GET", template: "/orders/{id}")
        // Twelve distinct messages, the first one three times.
        for n in [0, 0, 0] + Array(1...11) {
            _ = try? await agent.measureRequest(route, status: { (_: Int) in 200 }, errorStatus: { _ in 503 }) { () async throws -> Int in throw Refused(n: n) }
        }
        // A 4xx is not an error of the server.
        _ = try? await agent.measureRequest(route, status: { (_: Int) in 200 }, errorStatus: { _ in 404 }) { () async throws -> Int in throw Refused(n: 99) }
        agent.core.rollover()
        let r = try #require(agent.snapshot().routes.first { $0.path == "/orders/{id}" })
        let errors = try #require(r.recentErrors)
        #expect(errors.count == RouteError.kept)
        #expect(errors.last?.message == "backend 11 refused")
        #expect(errors.allSatisfy { $0.status == 503 })
        #expect(!errors.contains { $0.message == "backend 0 refused" }, "the oldest fell out")
        #expect(r.status.s5xx == 14)
        #expect((r.errorsPerSecond ?? 0) * Double(max(1, r.rateHistory.count)) == 14, "14 errors over the seconds closed so far: \(r.errorsPerSecond ?? 0)/s")
        #expect(r.status.s4xx == 1)
        let d = try #require(agent.snapshot().diagnoses.first { $0.id == "failing:/orders/{id}" })
        #expect(d.severity == .critical)
        #expect(d.summary.contains("503 backend 11 refused"))
        await agent.stop()
    }

    @Test func identicalErrorsAreOneLineWithACount() async throws {
        let agent = try await agent()
        let route = agent.route(method: "GET", template: "/x")
        for _ in 0..<5 {
            _ = try? await agent.measureRequest(route, status: { (_: Int) in 200 }, errorStatus: { _ in 500 }) { () async throws -> Int in throw Refused(n: 1) }
        }
        let errors = agent.snapshot().routes.first { $0.path == "/x" }?.recentErrors
        #expect(errors?.count == 1)
        #expect(errors?.first?.count == 5)
        #expect(errors.map { RequestLog.describe($0[0]) } == "500 ×5 backend 1 refused")
        await agent.stop()
    }

    func slowRequest(_ agent: LoopScopeAgent, _ route: LoopScopeAgent.RouteID) async throws {
        _ = try await agent.measureRequest(route, status: { (_: Int) in 200 }, errorStatus: { _ in 500 }) { () async throws -> Int in
            try await Task.sleep(for: .milliseconds(8))
            return 1
        }
    }

    @Test func aRequestOverTheThresholdIsLoggedWithItsOwnSplit() async throws {
        let agent = try await agent { $0.slowRequestThreshold = .milliseconds(5) }
        let route = agent.route(method: "GET", template: "/slow")
        try await slowRequest(agent, route)
        _ = try await agent.measureRequest(route, status: { (_: Int) in 200 }, errorStatus: { _ in 500 }) { 1 }
        let slow = try #require(agent.snapshot().routes.first { $0.path == "/slow" }?.slowRequests)
        #expect(slow.count == 1, "the fast request is not logged")
        let q = slow[0]
        #expect(q.latencyMicros >= 8_000)
        #expect(q.thresholdMicros == 5_000)
        #expect(q.split.ioMicros >= 7_000, "it awaited: \(q.split)")
        #expect(RequestLog.describe(q).contains("(over 5.0ms): I/O"))
        await agent.stop()
    }

    @Test func slowRequestsAreLoggedAtMostSoManyASecond() async throws {
        let agent = try await agent {
            $0.slowRequestThreshold = .milliseconds(5)
            $0.slowRequestsPerSecond = 1
        }
        let route = agent.route(method: "GET", template: "/slow")
        for _ in 0..<4 { try await slowRequest(agent, route) }
        let slow = agent.snapshot().routes.first { $0.path == "/slow" }?.slowRequests ?? []
        #expect(slow.count >= 1 && slow.count <= 2, "one a second (the four may straddle a second): \(slow.count)")
        await agent.stop()
    }

    @Test func withoutAFixedThresholdARouteIsSlowOverTwiceItsP99AndNeverUnderAMillisecond() {
        #expect(RouteStats.slowThreshold(p99Micros: 0, fixed: nil) == .max, "no p99 yet: nothing is slow")
        #expect(RouteStats.slowThreshold(p99Micros: 100, fixed: nil) == 1_000_000)
        #expect(RouteStats.slowThreshold(p99Micros: 40_000, fixed: nil) == 80_000_000)
        #expect(RouteStats.slowThreshold(p99Micros: 40_000, fixed: 3_000_000) == 3_000_000)
    }

    @Test func theRuntimeKeepsTheMessageOfA5xx() async throws {
        try await TestServer.with { t in
            await t.upstream.stop()
            let r = try await t.get("/fanout")
            #expect(r.status == 502)
            #expect(await eventually { t.server.snapshot().routes.first { $0.path == "/fanout" }?.recentErrors != nil })
            let e = try #require(t.server.snapshot().routes.first { $0.path == "/fanout" }?.recentErrors?.first)
            #expect(e.status == 502)
            #expect(e.message.contains("upstream unreachable"), "\(e.message)")
        }
    }
}
