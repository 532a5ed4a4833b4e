import Testing
import LoopScopeWire
import LoopScopeDemo
@testable import LoopScopeRuntime
@testable import LoopScopeAgent

/// The demo's upstream client as a visible, bounded pool; /fanout's three calls overlapping.
@Suite(.serialized) struct UpstreamPoolTests {
    @Test func fanoutsIOIsItsSlowestCallWhileTheSerialVariantsIsTheirSum() async throws {
        try await TestServer.with { t in
            for _ in 0..<4 {
                #expect(try await t.get("/fanout").status == 200)
                #expect(try await t.get("/fanout-serial").status == 200)
            }
            // Figures close at the once-a-second rollover.
            #expect(await eventually { t.server.snapshot().routes.first { $0.path == "/fanout-serial" }?.requests == 4 })
            t.server.rolloverStatistics()
            let s = t.server.snapshot()
            let parallel = try #require(s.routes.first { $0.path == "/fanout" }?.split)
            let serial = try #require(s.routes.first { $0.path == "/fanout-serial" }?.split)
            // The stub answers each call after 20 ms.
            #expect(parallel.ioMicros >= 19_000 && parallel.ioMicros < 35_000, "three overlapping 20 ms calls: \(parallel)")
            #expect(serial.ioMicros >= 59_000, "three 20 ms calls one after the other: \(serial)")
            #expect(parallel.poolWaitMicros < 1_000 && serial.poolWaitMicros < 1_000, "16 connections: nobody waits")
        }
    }

    @Test func callsWaitingForTheOnlyConnectionArePoolWaitAndTheDiagnosisResizesThePool() async throws {
        try await TestServer.with(upstreamConnections: 1) { t in
            for _ in 0..<3 { #expect(try await t.get("/fanout").status == 200) }
            // Figures close at the once-a-second rollover.
            #expect(await eventually { t.server.snapshot().diagnoses.contains { $0.id == "queueing:upstream" } })
            let s = t.server.snapshot()
            let fanout = try #require(s.routes.first { $0.path == "/fanout" })
            // One connection for three 20 ms calls: the second waits 20 ms, the third 40.
            #expect(fanout.split.poolWaitMicros >= 50_000, "\(fanout.split)")
            let pool = try #require(s.pool("upstream"))
            #expect(pool.kind == .connections)
            #expect(pool.size == 1)
            #expect(pool.routes == ["/fanout"])
            #expect(pool.queueWait.last10s.max >= 35_000 || pool.queueWait.last1s.max >= 35_000)
            let d = try #require(s.diagnoses.first { $0.id == "queueing:upstream" }, "\(s.diagnoses.map(\.id))")
            guard case .resize(pool: "upstream", let size)? = d.action else {
                Issue.record("no resize: \(String(describing: d.action))")
                return
            }
            #expect(size >= 2)
            // Applied, the calls overlap again.
            _ = try t.server.resizePool("upstream", to: size)
            #expect(t.server.snapshot().pool("upstream")?.size == size)
        }
    }

    @Test func anUpstreamCallPastItsTimeoutFailsWithTheReason() async throws {
        try await TestServer.with { t in
        let slow = UpstreamClient(port: t.upstream.port, group: t.group, connections: 1, callTimeout: .milliseconds(5))
        await #expect(throws: UpstreamError.self) { _ = try await slow.get("/a") }
        do {
            _ = try await slow.get("/a")
        } catch let e as UpstreamError {
            #expect(e.description == "upstream call timed out after 5 ms")
        }
        #expect(slow.pool.figures().busy == 0, "the connection went back (closed)")
        }
    }
}
