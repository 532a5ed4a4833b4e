import NIOConcurrencyHelpers
import LoopScopeWire

/// A bounded pool of connections (a database's, an upstream service's) that async code checks
/// out with `withConnection`, awaiting — never blocking a thread — while all are in use.
/// Register it with `LoopScopeAgent.register(_:)` and LoopScope shows it among the pools (kind
/// `connections`: size, in use, open, waiters, wait-time distribution, timeouts), the operator
/// resizes it live (`+`/`-`, `ctl resize NAME N`), and the pool diagnosis proposes a size from
/// Little's law when requests wait for connections longer than they use them.
///
/// ```swift
/// let pool = ConnectionPool(name: "postgres", size: 4,
///                           open: { try await PostgresConnection.connect(…) },
///                           close: { try? await $0.close() },
///                           isReusable: { !$0.isClosed })
/// agent.register(pool)
/// let rows = try await pool.withConnection { try await $0.query(…) }
/// ```
///
/// Connections are opened on demand up to `size`; waiters are served first come, first served.
/// A request measured by the agent (`measureRequest`, `LoopScopeMiddleware`) has its wait
/// counted in its route's split as `pool wait`, and its route listed in `PoolFigures.routes`.
///
/// `@unchecked Sendable`: the mutable state is only touched with `lock` held.
public final class ConnectionPool<Connection: Sendable>: WorkerPool, @unchecked Sendable {
    public let name: String
    private let open: @Sendable () async throws -> Connection
    private let close: @Sendable (Connection) async -> Void
    private let isReusable: @Sendable (Connection) -> Bool
    private let defaultTimeoutNanos: UInt64
    private let lock = NIOLock()
    private var idle: [Connection] = []
    /// Connections open, being opened, or granted to a waiter to open.
    private var opened = 0
    private var size: Int
    private var busy = 0
    private var waiters: [Waiter] = []
    private var nextWaiter: UInt64 = 0
    private var limit: Int
    private var closed = false
    let stats = PoolStats()
    public var statisticsFootprintBytes: Int { stats.footprintBytes }

    /// What a waiter is handed: a connection, or the right to open one.
    private enum Grant: Sendable {
        case connection(Connection)
        case open
    }

    /// What a caller of `checkout` does next.
    private enum Next {
        case ready(Connection)
        case open
        case wait(UInt64)
    }

    /// What becomes of a connection given back.
    private enum After {
        case handed(CheckedContinuation<Grant, any Error>, Grant)
        case kept
        case close(grantOpen: CheckedContinuation<Grant, any Error>?)
    }

    private struct Waiter {
        var id: UInt64
        var continuation: CheckedContinuation<Grant, any Error>
        /// Ends the wait at its timeout; cancelled when the waiter is served.
        var timer: Task<Void, Never>
    }

    /// Takes the longest-waiting waiter off the queue and stops its timer. Call with `lock` held.
    private func takeFirstWaiter() -> CheckedContinuation<Grant, any Error> {
        let w = waiters.removeFirst()
        w.timer.cancel()
        return w.continuation
    }

    /// - Parameters:
    ///   - size: connections at most (opened on demand).
    ///   - waitLimit: callers that may wait at once; more fail at once with `ConnectionPoolError.tooManyWaiting`.
    ///   - timeout: how long a caller waits for a connection by default.
    ///   - open: opens a connection.
    ///   - close: closes one (the pool shrank, it is not reusable, or the pool shut down).
    ///   - isReusable: whether a connection can go back to the pool after use (default: always).
    public init(name: String, size: Int, waitLimit: Int = 1024, timeout: Duration = .seconds(5),
                open: @escaping @Sendable () async throws -> Connection,
                close: @escaping @Sendable (Connection) async -> Void = { _ in },
                isReusable: @escaping @Sendable (Connection) -> Bool = { _ in true }) {
        self.name = name
        self.size = max(size, 1)
        self.limit = waitLimit
        self.defaultTimeoutNanos = timeout.wholeNanoseconds
        self.open = open
        self.close = close
        self.isReusable = isReusable
    }

    /// Runs `body` with a connection, waiting up to `timeout` (default: the pool's) for one.
    /// Throws `ConnectionPoolError` when the pool cannot give one in time, or what `body`
    /// or opening a connection throws. Cancelling the caller's task stops its wait.
    public func withConnection<T: Sendable>(timeout: Duration? = nil, _ body: (Connection) async throws -> T) async throws -> T {
        let t0 = Clocks.monotonicNanos()
        let tally = RequestTally.current
        stats.recordArrival(route: tally?.route)
        // The wait ends when the pool grants a connection or the right to open one: opening
        // it is the caller's I/O, not time spent waiting for the pool.
        let connection: Connection, waited: UInt64
        do {
            (connection, waited) = try await checkout(timeoutNanos: timeout.map(\.wholeNanoseconds) ?? defaultTimeoutNanos, since: t0)
        } catch {
            // A wait that ended without a connection was waiting all the same.
            tally?.addPoolWait(nanos: Clocks.monotonicNanos() &- t0)
            throw error
        }
        stats.recordStart(queueWaitNanos: waited)
        tally?.addPoolWait(nanos: waited)
        do {
            let result = try await body(connection)
            await checkin(connection, heldNanos: Clocks.monotonicNanos() &- t0 &- waited, failed: false)
            return result
        } catch {
            await checkin(connection, heldNanos: Clocks.monotonicNanos() &- t0 &- waited, failed: true)
            throw error
        }
    }

    private func checkout(timeoutNanos: UInt64, since t0: UInt64) async throws -> (Connection, waited: UInt64) {
        let next: Next = try lock.withLock {
            guard !closed else { throw ConnectionPoolError.shutDown(pool: name) }
            if waiters.isEmpty, let c = idle.popLast() {
                busy += 1
                return .ready(c)
            }
            if waiters.isEmpty, opened < size {
                opened += 1
                busy += 1
                return .open
            }
            guard waiters.count < limit else {
                stats.recordRejected()
                throw ConnectionPoolError.tooManyWaiting(pool: name, waiting: waiters.count)
            }
            nextWaiter &+= 1
            return .wait(nextWaiter)
        }
        switch next {
        case .ready(let c): return (c, Clocks.monotonicNanos() &- t0)
        case .open:
            let waited = Clocks.monotonicNanos() &- t0
            return (try await openGranted(), waited)
        case .wait(let id):
            let grant = try await wait(id: id, timeoutNanos: timeoutNanos)
            let waited = Clocks.monotonicNanos() &- t0
            switch grant {
            case .connection(let c): return (c, waited)
            case .open: return (try await openGranted(), waited)
            }
        }
    }

    /// Opens a connection for a slot already counted in `opened` and `busy`; gives the slot
    /// back (to a waiter, if one waits) when opening fails.
    private func openGranted() async throws -> Connection {
        do {
            return try await open()
        } catch {
            let handed = lock.withLock { () -> CheckedContinuation<Grant, any Error>? in
                busy -= 1
                guard !waiters.isEmpty, !closed else {
                    opened -= 1
                    return nil
                }
                busy += 1
                return takeFirstWaiter()
            }
            handed?.resume(returning: .open)
            throw ConnectionPoolError.cannotOpen(pool: name, reason: "\(error)")
        }
    }

    private func wait(id: UInt64, timeoutNanos: UInt64) async throws -> Grant {
        let timeout = ConnectionPoolError.timedOut(pool: name, afterMillis: Int(timeoutNanos / 1_000_000))
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Grant, any Error>) in
                let cancelled = lock.withLock { () -> Bool in
                    if Task.isCancelled { return true }
                    let timer = Task { [weak self] in
                        try? await Task.sleep(nanoseconds: timeoutNanos)
                        guard !Task.isCancelled else { return }
                        self?.expire(id, error: timeout)
                    }
                    waiters.append(Waiter(id: id, continuation: c, timer: timer))
                    stats.observeQueue(waiters.count)
                    return false
                }
                if cancelled { c.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            self.expire(id, error: CancellationError())
        }
    }

    /// Ends waiter `id`'s wait with `error`, if it still waits.
    private func expire(_ id: UInt64, error: any Error) {
        let waiter = lock.withLock { () -> Waiter? in
            guard let i = waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return waiters.remove(at: i)
        }
        guard let waiter else { return }
        waiter.timer.cancel()
        if error is ConnectionPoolError { stats.recordTimedOutWait() }
        waiter.continuation.resume(throwing: error)
    }

    private func checkin(_ connection: Connection, heldNanos: UInt64, failed: Bool) async {
        stats.recordFinish(runNanos: heldNanos, failed: failed)
        let reusable = isReusable(connection)
        let after: After = lock.withLock {
            busy -= 1
            if closed || opened > size || !reusable {
                opened -= 1
                // A broken connection's slot goes to a waiter, who opens a new one.
                if !closed, opened < size, !waiters.isEmpty {
                    opened += 1
                    busy += 1
                    return .close(grantOpen: takeFirstWaiter())
                }
                return .close(grantOpen: nil)
            }
            if !waiters.isEmpty {
                busy += 1
                return .handed(takeFirstWaiter(), .connection(connection))
            }
            idle.append(connection)
            return .kept
        }
        switch after {
        case .handed(let c, let grant): c.resume(returning: grant)
        case .kept: break
        case .close(let grantOpen):
            grantOpen?.resume(returning: .open)
            await close(connection)
        }
    }

    /// Sets the most connections. Growing lets waiters open new ones at once; shrinking closes
    /// idle connections now and busy ones as they come back.
    public func resize(to newSize: Int) {
        let (grants, surplus) = lock.withLock { () -> ([CheckedContinuation<Grant, any Error>], [Connection]) in
            size = max(newSize, 1)
            var surplus: [Connection] = []
            while opened > size, let c = idle.popLast() {
                opened -= 1
                surplus.append(c)
            }
            var grants: [CheckedContinuation<Grant, any Error>] = []
            while opened < size, !waiters.isEmpty {
                opened += 1
                busy += 1
                grants.append(takeFirstWaiter())
            }
            return (grants, surplus)
        }
        for g in grants { g.resume(returning: Grant.open) }
        closeInBackground(surplus)
    }

    public func setQueueLimit(_ newLimit: Int) {
        lock.withLock { limit = max(newLimit, 0) }
    }

    public func figures() -> PoolFigures {
        var f = lock.withLock {
            PoolFigures(name: name, kind: .connections, size: size, live: opened, busy: busy, queued: waiters.count, queueLimit: limit)
        }
        stats.fill(&f)
        return f
    }

    public func rollover() {
        stats.rollover(currentQueue: lock.withLock { waiters.count })
    }

    /// Fails every waiter, closes idle connections, and closes the rest as they come back.
    public func shutdown(timeoutNanos: UInt64) {
        let (waiting, idleNow) = lock.withLock { () -> ([Waiter], [Connection]) in
            closed = true
            let w = waiters
            waiters.removeAll()
            for x in w { x.timer.cancel() }
            let i = idle
            opened -= idle.count
            idle.removeAll()
            return (w, i)
        }
        for w in waiting { w.continuation.resume(throwing: ConnectionPoolError.shutDown(pool: name)) }
        closeInBackground(idleNow)
    }

    private func closeInBackground(_ connections: [Connection]) {
        guard !connections.isEmpty else { return }
        let close = self.close
        Task { for c in connections { await close(c) } }
    }
}

/// Why a `ConnectionPool` gave no connection.
public enum ConnectionPoolError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The wait for a connection ran past its timeout.
    case timedOut(pool: String, afterMillis: Int)
    /// As many callers as the pool allows were already waiting.
    case tooManyWaiting(pool: String, waiting: Int)
    /// Opening a connection failed.
    case cannotOpen(pool: String, reason: String)
    /// The pool was shut down.
    case shutDown(pool: String)

    public var description: String {
        switch self {
        case .timedOut(let p, let ms): return "no \(p) connection free within \(ms) ms"
        case .tooManyWaiting(let p, let n): return "\(n) callers already wait for a \(p) connection"
        case .cannotOpen(let p, let reason): return "cannot open a \(p) connection: \(reason)"
        case .shutDown(let p): return "the \(p) pool is shut down"
        }
    }
}

extension Duration {
    /// Nanoseconds, at least 1 (a timeout of zero or less ends at once).
    var wholeNanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 1 }
        return max(UInt64(seconds) &* 1_000_000_000 &+ UInt64(max(attoseconds, 0) / 1_000_000_000), 1)
    }
}
