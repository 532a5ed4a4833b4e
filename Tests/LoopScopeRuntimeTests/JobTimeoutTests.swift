import Foundation
import Testing
@testable import LoopScopeRuntime
@testable import LoopScopeAgent
import LoopScopeWire

/// A job that never ends in time cannot hold a pool: it is answered 504 at its timeout, its
/// worker replaced, the pool back at full size; the other requests are served meanwhile.
@Suite(.serialized) struct JobTimeoutTests {
    @Test func aThreadPoolJobPastItsTimeoutIs504AndItsThreadIsReplaced() async throws {
        try await TestServer.with(models: ["/sleep": .threads], configure: { $0.jobTimeout = .milliseconds(300) }) { t in
            let threadsBefore = threadCount(named: ["ls-threads"])
            let t0 = Date()
            let (status, body) = try await t.get("/sleep?ms=1500")
            let answeredAfter = Date().timeIntervalSince(t0)
            #expect(status == 504, "\(body)")
            #expect(body.contains("300 ms job timeout"), "\(body)")
            #expect(answeredAfter >= 0.25 && answeredAfter < 1.5, "answered after \(answeredAfter) s")
            // The pool is back at its size while the written-off thread still sleeps.
            let pool = try #require(t.server.snapshot().pool("threads"))
            #expect(pool.live == pool.size && pool.busy == 0, "\(pool.live) live, \(pool.busy) busy of \(pool.size)")
            #expect(pool.timedOut == 1)
            #expect(t.server.snapshot().events.contains { $0.kind == .jobTimedOut && $0.subject == "threads" })
            // Both threads serve: two jobs at once finish together.
            async let a = t.get("/sleep?ms=100")
            async let b = t.get("/sleep?ms=100")
            let (ra, rb) = try await (a, b)
            #expect(ra.status == 200 && rb.status == 200)
            // The written-off thread is still there, sleeping, beside its replacement…
            #expect(threadCount(named: ["ls-threads"]) == threadsBefore + 1)
            // …until its job returns: it exits without touching the gauges.
            #expect(await eventually { threadCount(named: ["ls-threads"]) == threadsBefore }, "\(threadCount(named: ["ls-threads"])) threads, \(threadsBefore) before")
            let after = try #require(t.server.snapshot().pool("threads"))
            #expect(after.live == after.size && after.busy == 0 && after.completed == 3, "\(after.live) live, \(after.busy) busy, \(after.completed) completed")
        }
    }

    @Test func aProcessPoolJobPastItsTimeoutIs504AndItsWorkerIsKilledAndReplaced() async throws {
        try await TestServer.with(models: ["/sleep": .processes], configure: { $0.jobTimeout = .milliseconds(300) }) { t in
            // The pool spawns its worker asynchronously.
            let spawned = await eventually { t.server.snapshot().pool("processes")?.workers.first != nil }
            #expect(spawned)
            let before = try #require(t.server.snapshot().pool("processes")?.workers.first?.pid)
            let (status, body) = try await t.get("/sleep?ms=5000")
            #expect(status == 504, "\(body)")
            #expect(kill(before, 0) != 0, "the worker that ran it is gone")
            let replaced = waitUntil(seconds: 5) {
                let p = t.server.snapshot().pool("processes")
                return p?.live == p?.size && p?.workers.first.map { $0.pid != before } == true
            }
            #expect(replaced)
            #expect(t.server.snapshot().pool("processes")?.timedOut == 1)
            #expect(t.server.snapshot().events.contains { $0.kind == .jobTimedOut && $0.subject == "processes" })
            #expect(try await t.get("/sleep?ms=10").status == 200)
        }
    }

    @Test func aJobOverrunningOnThreadsIsDiagnosedAndItsFixMovesItIntoAWorker() async throws {
        try await TestServer.with(models: ["/sleep": .threads], configure: { $0.jobTimeout = .milliseconds(200) }) { t in
            #expect(try await t.get("/sleep?ms=600").status == 504)
            // The route counts its timeout once its request is recorded.
            let diagnosed = await eventually { t.server.snapshot().diagnoses.contains { $0.id == "runaway-on-threads:/sleep" } }
            #expect(diagnosed, "\(t.server.snapshot().diagnoses.map(\.id))")
            _ = try t.server.core.agent.fix(diagnosis: "runaway-on-threads:/sleep", actor: "test")
            #expect(t.server.snapshot().route("/sleep")?.model == .processes)
            #expect(await eventually { t.server.snapshot().pool("processes")?.workers.first != nil })
            let before = try #require(t.server.snapshot().pool("processes")?.workers.first?.pid)
            // Now an overrun costs a worker, killed and replaced, not a thread left behind.
            #expect(try await t.get("/sleep?ms=5000").status == 504)
            #expect(kill(before, 0) != 0, "the worker that ran it is gone")
            // Where it is, nothing proposes moving it back to threads (failing-in-pool may say
            // that its jobs fail, without an action).
            let ids = t.server.snapshot().diagnoses.filter { $0.action != nil }.map(\.id)
            #expect(!ids.contains { $0.hasSuffix(":/sleep") }, "\(ids)")
        }
    }

    @Test func withoutATimeoutPoolsSayNothingAboutTimeouts() async throws {
        try await TestServer.with(configure: { $0.jobTimeout = nil }) { t in
            #expect(t.server.snapshot().pool("threads")?.timedOut == nil)
            #expect(t.server.snapshot().pool("processes")?.timedOut == nil)
        }
    }
}
