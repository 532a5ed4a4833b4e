import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import Testing
@testable import LoopScopeAgent
import LoopScopeHummingbird
import LoopScopeWire

/// Fake async as Hummingbird users write it: a handler that never awaits.
enum Handlers {
    @inline(never)
    static func spinInHandler(milliseconds ms: Int) -> UInt64 {
        let end = DispatchTime.now().uptimeNanoseconds + UInt64(ms) * 1_000_000
        var x: UInt64 = 3
        while DispatchTime.now().uptimeNanoseconds < end { x = x &* 6364136223846793005 &+ 1 }
        return x
    }
}

/// A real Hummingbird application on a free port with the agent and the middleware.
struct LiveApp {
    let agent: LoopScopeAgent
    let port: Int
    let services: ServiceGroup
    let running: Task<Void, any Error>
    let directory: String

    static func start() async throws -> LiveApp {
        let directory = NSTemporaryDirectory() + "loopscope-hb-\(UUID().uuidString.prefix(8))"
        var config = AgentConfiguration(name: "hb-test")
        config.control = ControlConfiguration(directory: directory)
        let agent = try await LoopScopeAgent.start(config, watching: MultiThreadedEventLoopGroup.singleton)
        let router = Router()
        router.add(middleware: LoopScopeMiddleware(agent: agent))
        router.get("hello") { _, _ in "hello\n" }
        router.get("users/{id}") { _, context in "user \(context.parameters.get("id") ?? "")\n" }
        router.get("spin") { request, _ in
            let ms = Int(request.uri.queryParameters.get("ms") ?? "") ?? 8
            return "\(Handlers.spinInHandler(milliseconds: ms))\n"
        }
        router.get("invoices/{id}") { _, _ in
            let digest = try await agent.offload("render-invoice") { Handlers.spinInHandler(milliseconds: 8) }
            return "\(digest)\n"
        }
        router.post("upload") { request, _ in
            let body = try await request.body.collect(upTo: 1 << 20)
            return "\(body.readableBytes) bytes\n"
        }
        router.get("wait") { _, _ in
            try await Task.sleep(nanoseconds: 20_000_000)
            return "waited\n"
        }
        let port = Mutex<Int?>(nil)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in port.withLock { $0 = channel.localAddress?.port } },
                              logger: Logger(label: "hb-test"))
        let services = ServiceGroup(services: [agent, app], logger: Logger(label: "hb-test"))
        let running = Task { try await services.run() }
        let deadline = Date().addingTimeInterval(10)
        while port.withLock({ $0 }) == nil, Date() < deadline { try await Task.sleep(nanoseconds: 10_000_000) }
        guard let p = port.withLock({ $0 }) else {
            await services.triggerGracefulShutdown()
            throw POSIXError(.ETIMEDOUT)
        }
        return LiveApp(agent: agent, port: p, services: services, running: running, directory: directory)
    }

    func stop() async throws {
        await services.triggerGracefulShutdown()
        try await running.value
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// One GET (a POST with `body`) on a fresh connection, with a 5 s timeout; returns the status.
    func get(_ path: String, post body: Data? = nil) async throws -> Int {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.timeoutInterval = 5
        if let body {
            request.httpMethod = "POST"
            request.httpBody = body
        }
        let (_, response) = try await URLSession.shared.data(for: request)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }
}

@Suite(.serialized) struct LoopScopeMiddlewareTests {
    @Test func routesAreRecordedByTemplateWithTheirClassAndUnmatchedInOneBucket() async throws {
        let app = try await LiveApp.start()
        for i in 0..<5 {
            #expect(try await app.get("/hello") == 200)
            #expect(try await app.get("/users/\(i)") == 200)
            #expect(try await app.get("/wait") == 200)
        }
        // CPU time is read on the first request and one in 8 after: 17 give three readings.
        for _ in 0..<17 { #expect(try await app.get("/spin?ms=8") == 200) }
        #expect(try await app.get("/nope/1") == 404)
        #expect(try await app.get("/nope/2") == 404)
        app.agent.rolloverStatistics()
        let s = app.agent.snapshot()
        try await app.stop()

        #expect(s.route("/users/{id}")?.requests == 5, "by template, never the raw path: \(s.routes.map(\.path))")
        #expect(!s.routes.contains { $0.path.hasPrefix("/users/0") })
        #expect(s.route("NotFound")?.status.s4xx == 2)
        let spin = try #require(s.route("/spin"))
        #expect(spin.workClass == .cpu)
        #expect(spin.held.asyncMicros >= 6_000)
        #expect(s.route("/wait")?.workClass == .io)
        #expect(s.route("/wait")?.held.asyncMicros == 0)
        #expect(s.tasks.culprit == "/spin")
        #expect(s.diagnoses.contains { $0.id == "cpu-in-async:/spin" })
    }

    @Test func aHandlerStallingTheCooperativePoolIsNamedInItsStallSites() async throws {
        let app = try await LiveApp.start()
        // Every pool thread spins at once; on a busy machine a round may pass unsampled (a
        // thread not scheduled within the answer timeout), so up to five rounds, until seen.
        var s = app.agent.snapshot()
        for _ in 0..<5 where s.tasks.stallSites.isEmpty {
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<(2 * System.coreCount) { group.addTask { try await app.get("/spin?ms=80") } }
                for try await status in group { #expect(status == 200) }
            }
            s = app.agent.snapshot()
        }
        try await app.stop()
        let top = try #require(s.tasks.stallSites.first)
        #expect(top.function == "Handlers.spinInHandler(milliseconds:)", "\(s.tasks.stallSites.map(\.function))")
        #expect(top.route == "/spin")
    }

    @Test func anOffloadPointRunsInlineUntilTheFixMovesItToThreads() async throws {
        let app = try await LiveApp.start()
        // CPU time is read on the first request and one in 8 after: 17 give three readings.
        for i in 0..<17 { #expect(try await app.get("/invoices/\(i)") == 200) }
        app.agent.rolloverStatistics()
        let before = app.agent.snapshot()
        let point = try #require(before.route("render-invoice", method: "OFFLOAD"))
        #expect(point.model == .task)
        #expect(point.workClass == .cpu)
        #expect(point.held.perRequestMicros >= 6_000)
        #expect(before.route("/invoices/{id}")?.workClass == .cpu, "inline, the handler holds its thread")
        let diagnosis = try #require(before.diagnoses.first { $0.id == "cpu-on-tasks:render-invoice" })
        #expect(diagnosis.action == .reroute(route: "render-invoice", model: .threads))

        _ = try app.agent.core.fix(diagnosis: diagnosis.id, actor: "test")
        for i in 0..<6 { #expect(try await app.get("/invoices/\(i)") == 200) }
        let after = app.agent.snapshot()
        try await app.stop()
        #expect(after.route("render-invoice", method: "OFFLOAD")?.model == .threads)
        #expect(after.pool("threads")?.completed == 6)
        #expect(after.events.contains { $0.subject == "render-invoice" && $0.new == "threads" })
    }

    @Test func bodySizesAreMeasuredFromTheirContentLength() async throws {
        let app = try await LiveApp.start()
        for size in [2_000, 6_000] { #expect(try await app.get("/upload", post: Data(count: size)) == 200) }
        #expect(try await app.get("/hello") == 200)
        app.agent.rolloverStatistics()
        let s = app.agent.snapshot()
        try await app.stop()
        #expect(s.route("/upload")?.perRequest.requestBytes == 4_000)
        #expect(s.route("/upload")?.perRequest.responseBytes == 11, "\"2000 bytes\\n\" and \"6000 bytes\\n\"")
        #expect(s.route("/hello")?.perRequest.requestBytes == 0)
        #expect(s.route("/hello")?.perRequest.responseBytes == 6)
    }
}
