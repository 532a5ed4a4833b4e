import Testing
import Foundation
import NIOConcurrencyHelpers
import NIOPosix
import LoopScopeWire
@testable import LoopScopeAgent
@testable import LoopScopeRuntime

@Suite struct ConnectionPoolTests {
    /// Connections that are numbers; counts the ones opened and closed.
    final class Ledger: Sendable {
        let opened = NIOLockedValueBox(0)
        let closed = NIOLockedValueBox<[Int]>([])
        func pool(size: Int, waitLimit: Int = 100, timeout: Duration = .seconds(5), reusable: @escaping @Sendable (Int) -> Bool = { _ in true }) -> ConnectionPool<Int> {
            ConnectionPool(name: "db", size: size, waitLimit: waitLimit, timeout: timeout,
                           open: { self.opened.withLockedValue { $0 += 1; return $0 } },
                           close: { c in self.closed.withLockedValue { $0.append(c) } },
                           isReusable: reusable)
        }
    }

    /// A latch a test opens to let checked-out connections go back.
    final class Latch: Sendable {
        private let stream: AsyncStream<Void>
        private let continuation: AsyncStream<Void>.Continuation
        init() { (stream, continuation) = AsyncStream.makeStream() }
        func open() { continuation.finish() }
        func wait() async { for await _ in stream {} }
    }

    @Test func callersBeyondTheSizeWaitTheirTurnAndTheirWaitIsTheRequestsPoolWait() async throws {
        let ledger = Ledger()
        let pool = ledger.pool(size: 2)
        let latch = Latch()
        let tally = RequestTally(route: "/orders/{id}")
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<5 {
                group.addTask {
                    try await RequestTally.$current.withValue(tally) {
                        try await pool.withConnection { c in await latch.wait(); return c }
                    }
                }
            }
            #expect(await eventually(within: .seconds(10)) { pool.figures().queued == 3 })
            let f = pool.figures()
            #expect((f.kind, f.size, f.live, f.busy, f.queued) == (.connections, 2, 2, 2, 3))
            try await Task.sleep(for: .milliseconds(20))
            latch.open()
            var used: [Int] = []
            for try await c in group { used.append(c) }
            #expect(Set(used) == [1, 2], "five callers shared the two connections")
        }
        #expect(ledger.opened.withLockedValue { $0 } == 2)
        let f = pool.figures()
        #expect((f.busy, f.queued, f.completed) == (0, 0, 5))
        #expect(f.routes == ["/orders/{id}"])
        #expect(f.queueWait.last1s.max == 0, "windows close at rollover")
        #expect(tally.poolWaitNanos >= 3 * 20_000_000, "three callers waited ≥ 20 ms each: \(tally.poolWaitNanos)")
        pool.rollover()
        #expect(pool.figures().arrivalsPerSecond == 5)
        #expect(pool.figures().queueWait.last1s.max >= 20_000)
    }

    @Test func aWaitPastTheTimeoutFailsWithItsReasonAndIsCounted() async throws {
        let pool = Ledger().pool(size: 1, timeout: .milliseconds(30))
        let latch = Latch()
        let holder = Task { try await pool.withConnection { _ in await latch.wait() } }
        #expect(await eventually(within: .seconds(10)) { pool.figures().busy == 1 })
        let started = ContinuousClock.now
        await #expect(throws: ConnectionPoolError.timedOut(pool: "db", afterMillis: 30)) {
            try await pool.withConnection { _ in }
        }
        #expect(ContinuousClock.now - started >= .milliseconds(30))
        #expect(pool.figures().timedOut == 1)
        #expect(pool.figures().queued == 0, "the timed-out caller left the queue")
        latch.open()
        try await holder.value
        // The pool still serves.
        #expect(try await pool.withConnection { $0 } == 1)
    }

    @Test func tooManyWaitingAreRefusedAtOnce() async throws {
        let pool = Ledger().pool(size: 1, waitLimit: 1)
        let latch = Latch()
        let holder = Task { try await pool.withConnection { _ in await latch.wait() } }
        #expect(await eventually(within: .seconds(10)) { pool.figures().busy == 1 })
        let waiter = Task { try await pool.withConnection { $0 } }
        #expect(await eventually(within: .seconds(10)) { pool.figures().queued == 1 })
        await #expect(throws: ConnectionPoolError.tooManyWaiting(pool: "db", waiting: 1)) {
            try await pool.withConnection { _ in }
        }
        #expect(pool.figures().rejected == 1)
        latch.open()
        try await holder.value
        #expect(try await waiter.value == 1)
    }

    @Test func growingServesWaitersAtOnceAndShrinkingClosesWhatComesBack() async throws {
        let ledger = Ledger()
        let pool = ledger.pool(size: 1)
        let latch = Latch()
        let tasks = (0..<3).map { _ in Task { try await pool.withConnection { c in await latch.wait(); return c } } }
        #expect(await eventually(within: .seconds(10)) { pool.figures().queued == 2 })
        pool.resize(to: 3)
        #expect(await eventually(within: .seconds(10)) { pool.figures().busy == 3 && pool.figures().queued == 0 }, "the waiters open connections of their own")
        pool.resize(to: 1)
        latch.open()
        for t in tasks { _ = try await t.value }
        #expect(await eventually(within: .seconds(10)) { ledger.closed.withLockedValue { $0.count } == 2 })
        let f = pool.figures()
        #expect((f.size, f.live, f.busy) == (1, 1, 0))
    }

    @Test func aConnectionThatCannotBeReusedIsClosedAndItsSlotGoesToAWaiter() async throws {
        let ledger = Ledger()
        let pool = ledger.pool(size: 1, reusable: { $0 == 2 })
        let latch = Latch()
        let first = Task { try await pool.withConnection { c in await latch.wait(); return c } }
        #expect(await eventually(within: .seconds(10)) { pool.figures().busy == 1 })
        let second = Task { try await pool.withConnection { $0 } }
        #expect(await eventually(within: .seconds(10)) { pool.figures().queued == 1 })
        latch.open()
        #expect(try await first.value == 1)
        #expect(try await second.value == 2, "connection 1 was broken: the waiter opened a new one")
        #expect(await eventually(within: .seconds(10)) { ledger.closed.withLockedValue { $0 } == [1] })
        #expect(pool.figures().live == 1)
    }

    @Test func aFailedOpenGivesTheSlotBackAndSaysWhy() async throws {
        struct Refused: Error {}
        let attempts = NIOLockedValueBox(0)
        let pool = ConnectionPool<Int>(name: "db", size: 1, open: {
            let n = attempts.withLockedValue { $0 += 1; return $0 }
            if n == 1 { throw Refused() }
            return n
        })
        await #expect(throws: ConnectionPoolError.cannotOpen(pool: "db", reason: "Refused()")) { try await pool.withConnection { $0 } }
        #expect(pool.figures().live == 0)
        #expect(try await pool.withConnection { $0 } == 2)
    }

    @Test func anAgentShowsARegisteredPoolAndARequestsWaitInItsRoutesSplit() async throws {
        var config = AgentConfiguration(name: "pool-test")
        config.control = nil
        let agent = try await LoopScopeAgent.start(config, watching: MultiThreadedEventLoopGroup.singleton)
        let pool = ConnectionPool<Int>(name: "postgres", size: 1, open: { 1 })
        try agent.register(pool)
        #expect(throws: RuntimeError.self) { try agent.register(ConnectionPool<Int>(name: "postgres", size: 1, open: { 1 })) }
        let route = agent.route(method: "GET", template: "/orders/{id}")
        let latch = Latch()
        let holder = Task { try await pool.withConnection { _ in await latch.wait() } }
        #expect(await eventually(within: .seconds(10)) { pool.figures().busy == 1 })
        let request = Task {
            try await agent.measureRequest(route, status: { _ in 200 }, errorStatus: { _ in 500 }) {
                try await pool.withConnection { $0 }
            }
        }
        #expect(await eventually(within: .seconds(10)) { pool.figures().queued == 1 })
        try await Task.sleep(for: .milliseconds(30))
        latch.open()
        try await holder.value
        _ = try await request.value
        agent.core.rollover()
        let s = agent.snapshot()
        let orders = try #require(s.routes.first { $0.path == "/orders/{id}" })
        #expect(orders.split.poolWaitMicros >= 30_000, "\(orders.split)")
        #expect(orders.split.ioMicros < orders.split.poolWaitMicros)
        #expect(s.pool("postgres")?.routes == ["/orders/{id}"])
        await agent.stop()
    }
}

/// The blocking `ResourcePool` (a synchronous driver's connections, as the demo's SQLite) in a
/// LoopScope route's job on threads: its wait is the route's pool wait too.
@Suite(.serialized) struct ResourcePoolAttributionTests {
    @Test func aJobOnThreadsWaitingForAResourceHasItInItsRoutesSplit() async throws {
        let pool = ResourcePool<Int>(name: "sqlite", size: 1, waitLimit: 16) { 1 }
        let job = ComputeJob("query") { _ in
            try pool.with { _ in usleep(20_000) }
            return Array("ok\n".utf8)
        }
        let route = try Route("/query", model: .threads, job: job)
        try await TestServer.with(threads: 4, extraRoutes: [route]) { t in
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<4 { group.addTask { try await t.get("/query").status } }
                for try await status in group { #expect(status == 200) }
            }
            // (The server records a request just after writing its answer.)
            #expect(await eventually { t.server.snapshot().routes.first { $0.path == "/query" }?.requests == 4 })
            t.server.rolloverStatistics()
            let r = try #require(t.server.snapshot().routes.first { $0.path == "/query" })
            // Four 20 ms queries through one connection: 0 + 20 + 40 + 60 ms of waiting.
            #expect(r.split.poolWaitMicros >= 20_000, "\(r.split)")
            #expect(r.split.computeMicros >= 15_000 && r.split.computeMicros < 35_000, "the query itself: \(r.split)")
            #expect(pool.figures().routes == ["/query"])
        }
    }

    @Test func aResourceWaitPastItsTimeoutIsA504CountedUnderItsReason() throws {
        let pool = ResourcePool<Int>(name: "sqlite", size: 1, waitLimit: 16) { 1 }
        let held = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        Thread.detachNewThread { try? pool.with { _ in held.signal(); release.wait() } }
        held.wait()
        let tally = RequestTally(route: "/query")
        let failure = RequestTally.$current.withValue(tally) {
            ComputeJob("q") { _ in try pool.with(timeoutNanos: 5_000_000) { _ in [] } }.resultOf(JobInput())
        }
        release.signal()
        guard case .failure(let f) = failure else { Issue.record("no failure"); return }
        #expect(f.status == 504)
        #expect(f.timeoutReason == "sqlite connection wait")
        #expect(tally.poolWaitNanos >= 5_000_000, "a wait that timed out was waiting all the same")
        #expect(pool.figures().timedOut == 1)
        #expect(pool.figures().routes == ["/query"])
    }
}
