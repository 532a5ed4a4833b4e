import Testing
import NIOCore
import NIOPosix
import LoopScopeWire
@testable import LoopScopeDemo
@testable import LoopScopeAgent
@testable import LoopScopeRuntime

/// Route deadlines answer 504 at once; every timeout is counted by its route and reason.
@Suite(.serialized) struct RouteTimeoutTests {
    @Test func aPooledRoutePastItsDeadlineIsAnswered504AtTheDeadline() async throws {
        try await TestServer.with(models: ["/sleep": .threads], configure: { $0.routeTimeout = .milliseconds(60) }) { t in
            let clock = ContinuousClock()
            let started = clock.now
            let r = try await t.get("/sleep?ms=600")
            let took = clock.now - started
            #expect(r.status == 504)
            #expect(r.body.contains("60 ms deadline"), "\(r.body)")
            #expect(took < .milliseconds(500), "answered at the deadline, not when the job ended: \(took)")
            // A quick one on the same route is answered as usual.
            #expect(try await t.get("/sleep?ms=1").status == 200)
            let s = t.server.snapshot().routes.first { $0.path == "/sleep" }
            #expect(s?.timeouts == [TimeoutCount(reason: "deadline", count: 1)])
            #expect(s?.recentErrors?.first?.status == 504)
            // (The server records a request just after writing its answer.)
            #expect(await eventually { t.server.snapshot().routes.first { $0.path == "/sleep" }?.inFlight == 0 }, "answered")
            // The job runs on in its thread; once it ends, its late answer is dropped.
            #expect(await eventually(within: .seconds(3)) { t.server.snapshot().pool("threads")?.completed == 2 })
            let after = t.server.snapshot().routes.first { $0.path == "/sleep" }
            #expect(after?.status.s2xx == 1 && after?.status.s5xx == 1 && after?.inFlight == 0, "the late completion recorded nothing")
        }
    }

    @Test func aPipelinePastItsDeadlineIsAnsweredAndItsTaskCancelled() async throws {
        // The upstream stub answers after 20 ms; /fanout-serial needs three of them.
        try await TestServer.with(configure: { $0.routeTimeout = .milliseconds(30) }) { t in
            let r = try await t.get("/fanout-serial")
            #expect(r.status == 504)
            #expect(try await t.get("/hello").status == 200)
            #expect(t.server.snapshot().routes.first { $0.path == "/fanout-serial" }?.timeouts?.first?.reason == "deadline")
        }
    }

    @Test func timeoutsOfCallsCountUnderTheirReason() async throws {
        // An upstream call past its timeout is a 504 of the route, counted as `upstream call`.
        let e = DemoApp.upstreamFailure(UpstreamError.timedOut(millis: 5))
        #expect(e.status == 504)
        #expect(e.timeoutReason == "upstream call")
        #expect(DemoApp.upstreamFailure(UpstreamError.status(500)).status == 502)

        // A handler measured by the agent whose wait for a connection timed out.
        var config = AgentConfiguration(name: "timeouts")
        config.control = nil
        let agent = try await LoopScopeAgent.start(config, watching: MultiThreadedEventLoopGroup.singleton)
        let pool = ConnectionPool<Int>(name: "postgres", size: 1, timeout: .milliseconds(10), open: { 1 })
        let route = agent.route(method: "GET", template: "/orders/{id}")
        let latch = AsyncStream<Void>.makeStream()
        let holder = Task { try await pool.withConnection { _ in for await _ in latch.stream {} } }
        #expect(await eventually { pool.figures().busy == 1 })
        for _ in 0..<2 {
            _ = try? await agent.measureRequest(route, status: { (_: Int) in 200 }, errorStatus: { _ in 504 }) { try await pool.withConnection { $0 } }
        }
        latch.continuation.finish()
        try await holder.value
        #expect(agent.snapshot().routes.first { $0.path == "/orders/{id}" }?.timeouts == [TimeoutCount(reason: "postgres connection wait", count: 2)])
        await agent.stop()
    }
}
