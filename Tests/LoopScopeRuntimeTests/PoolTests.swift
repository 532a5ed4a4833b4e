import Foundation
import Testing
import NIOConcurrencyHelpers
import LoopScopeWire
@testable import LoopScopeRuntime
@testable import LoopScopeAgent

@Suite(.serialized) struct PoolTests {
    /// A gate jobs wait on until the test opens it.
    final class Gate: @unchecked Sendable {
        private let c = Condition()
        private var open = false
        func wait() { c.lock(); while !open { c.wait(timeoutNanos: 10_000_000) }; c.unlock() }
        func release() { c.lock(); open = true; c.unlock(); c.broadcast() }
    }

    @Test func eachPoolReportsItsKindAndEachPooledModelRunsOnTheServersPoolOfThatKind() async throws {
        #expect(ResourcePool(name: "db", size: 1, waitLimit: 1) { 0 }.figures().kind == .connections)
        try await TestServer.with() { t in
            let s = t.server.snapshot()
            #expect(s.pools.map(\.kind) == [.threads, .processes, .connections], "the demo's upstream client's pool last")
            for model in ExecutionModel.allCases {
                #expect(s.pool(for: model)?.kind == model.pool)
                #expect(s.pool(for: model)?.name == model.pool?.rawValue, "the server's own pools are named after their kinds")
            }
        }
    }

    @Test func queueDepthEqualsTheJobsWaitingWhileEveryWorkerIsHeld() throws {
        let pool = ThreadPool(size: 2, queueLimit: 100)
        let gate = Gate()
        let done = NIOLockedValueBox(0)
        for _ in 0..<7 { #expect(pool.submit { gate.wait(); done.withLockedValue { $0 += 1 } }) }
        // Both workers take a job (and hold it at the gate): the other five wait.
        #expect(waitUntil { pool.figures().busy == 2 })
        let f = pool.figures()
        #expect(f.busy == 2)
        #expect(f.queued == 5)
        gate.release()
        #expect(waitUntil { done.withLockedValue { $0 } == 7 })
        #expect(pool.figures().queued == 0)
        pool.shutdown(timeoutNanos: 1_000_000_000)
    }

    @Test func growsAndShrinksWithQueuedWorkIntact() throws {
        let pool = ThreadPool(size: 1, queueLimit: 1000)
        let done = NIOLockedValueBox<Set<Int>>([])
        for i in 0..<60 { #expect(pool.submit { usleep(5_000); _ = done.withLockedValue { $0.insert(i) } }) }
        pool.resize(to: 6)
        #expect(waitUntil { pool.figures().live == 6 })
        // Shrink while the six are busy with queued work: none of it may be lost.
        #expect(waitUntil { pool.figures().busy == 6 })
        pool.resize(to: 2)
        #expect(waitUntil { done.withLockedValue { $0.count } == 60 })
        #expect(waitUntil { pool.figures().live == 2 })
        #expect(done.withLockedValue { $0 } == Set(0..<60))
        pool.shutdown(timeoutNanos: 1_000_000_000)
    }

    @Test func shrinkingNeverInterruptsABusyWorker() throws {
        let pool = ThreadPool(size: 3, queueLimit: 10)
        let gate = Gate()
        let finished = NIOLockedValueBox(0)
        for _ in 0..<3 { #expect(pool.submit { gate.wait(); finished.withLockedValue { $0 += 1 } }) }
        #expect(waitUntil { pool.figures().busy == 3 })
        pool.resize(to: 1)
        // All busy: none may retire until its job is done, however long we look.
        #expect(!waitUntil(seconds: 0.1) { pool.figures().live < 3 })
        gate.release()
        #expect(waitUntil { finished.withLockedValue { $0 } == 3 })
        #expect(waitUntil { pool.figures().live == 1 })
        pool.shutdown(timeoutNanos: 1_000_000_000)
    }

    @Test func processPoolReplacesAKilledWorkerAndFailsItsJobAt502() async throws {
        try await TestServer.with(processes: 2, models: ["/sleep": .processes]) { t in
            _ = try await t.get("/hello")
            #expect(waitUntil { t.server.processWorkerPIDs.count == 2 })
            let before = Set(t.server.processWorkerPIDs)
            let started = Date()
            async let victim = t.get("/sleep?ms=3000")
            var busyPID: Int32? = nil
            for _ in 0..<100 where busyPID == nil {
                try await Task.sleep(nanoseconds: 10_000_000)
                busyPID = t.server.snapshot().pool("processes")!.workers.first { $0.busy }?.pid
            }
            let pid = try #require(busyPID)
            kill(pid, SIGKILL)
            let answer = try await victim
            #expect(answer.status == 502)
            #expect(Date().timeIntervalSince(started) < 2.5)
            #expect(waitUntil(seconds: 1.5) { let p = t.server.processWorkerPIDs; return p.count == 2 && !p.contains(pid) })
            #expect(Set(t.server.processWorkerPIDs) != before)
            #expect(try await t.get("/sleep?ms=1").status == 200)
            let s = t.server.snapshot()
            #expect(s.events.contains { $0.kind == .workerDied })
            #expect(s.pool("processes")!.workers.reduce(0) { $0 + $1.restarts } == 1)
        }
    }

    @Test func anIdleWorkerKilledIsReplacedWithinASecond() async throws {
        try await TestServer.with(processes: 1) { t in
            #expect(waitUntil { t.server.processWorkerPIDs.count == 1 })
            let pid = t.server.processWorkerPIDs[0]
            kill(pid, SIGKILL)
            #expect(waitUntil(seconds: 1.0) { let p = t.server.processWorkerPIDs; return p.count == 1 && p[0] != pid })
        }
    }
}

/// Polls `condition` every 5 ms for up to `seconds`.
func waitUntil(seconds: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(5_000)
    }
    return condition()
}
