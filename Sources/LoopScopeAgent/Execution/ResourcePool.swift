import LoopScopeWire

/// A resizable pool of reusable resources (e.g. database connections) that callers check out,
/// blocking while none is free. Reported like the worker pools: size, busy, waiting, wait time.
///
/// `@unchecked Sendable`: the mutable state is only touched with `condition` locked.
public final class ResourcePool<Resource>: WorkerPool, @unchecked Sendable {
    public let name: String
    private let make: () throws -> Resource
    private let condition = Condition()
    private var idle: [Resource] = []
    private var created = 0
    private var size: Int
    private var busy = 0
    private var waiting = 0
    private var limit: Int
    let stats = PoolStats()
    public var statisticsFootprintBytes: Int { stats.footprintBytes }

    /// - Parameters:
    ///   - size: resources at most; created on demand.
    ///   - waitLimit: callers that may wait; more fail at once.
    public init(name: String, size: Int, waitLimit: Int, make: @escaping () throws -> Resource) {
        self.name = name
        self.size = size
        self.limit = waitLimit
        self.make = make
    }

    /// Runs `body` with a resource, waiting up to `timeoutNanos` for one. Throws `JobError.failed`
    /// when the wait limit is reached or the wait times out.
    /// A job of a LoopScope route running on threads or a task has its wait counted in its
    /// route's `pool wait` and its route listed in the pool's `routes`.
    public func with<T>(timeoutNanos: UInt64 = 5_000_000_000, _ body: (Resource) throws -> T) throws -> T {
        let t0 = Clocks.monotonicNanos()
        let tally = RequestTally.current
        stats.recordArrival(route: tally?.route)
        let resource: Resource
        do {
            resource = try checkout(deadline: t0 + timeoutNanos)
        } catch {
            tally?.addPoolWait(nanos: Clocks.monotonicNanos() &- t0)
            throw error
        }
        let waited = Clocks.monotonicNanos() &- t0
        stats.recordStart(queueWaitNanos: waited)
        tally?.addPoolWait(nanos: waited)
        var failed = true
        defer {
            stats.recordFinish(runNanos: Clocks.monotonicNanos() &- t0 &- waited, failed: failed)
            checkin(resource)
        }
        let result = try body(resource)
        failed = false
        return result
    }

    private func checkout(deadline: UInt64) throws -> Resource {
        condition.lock()
        defer { condition.unlock() }
        if idle.isEmpty && created >= size {
            guard waiting < limit else {
                stats.recordRejected()
                throw JobError.failed("the \(name) pool has \(waiting) callers waiting (limit \(limit))")
            }
            waiting += 1
            stats.observeQueue(waiting)
            defer { waiting -= 1 }
            while idle.isEmpty && created >= size {
                let now = Clocks.monotonicNanos()
                guard now < deadline else {
                    stats.recordTimedOutWait()
                    throw ResourceTimeout(pool: name)
                }
                condition.wait(timeoutNanos: deadline - now)
            }
        }
        busy += 1
        if let r = idle.popLast() { return r }
        created += 1
        do {
            return try make()
        } catch {
            created -= 1
            busy -= 1
            throw JobError.failed("cannot open a \(name) connection: \(error)")
        }
    }

    private func checkin(_ resource: Resource) {
        condition.lock()
        busy -= 1
        if created > size {
            created -= 1 // dropped: the pool shrank
        } else {
            idle.append(resource)
        }
        condition.unlock()
        condition.signal()
    }

    public func resize(to newSize: Int) {
        condition.lock()
        size = newSize
        while created > size, !idle.isEmpty {
            idle.removeLast()
            created -= 1
        }
        condition.unlock()
        condition.broadcast()
    }

    public func setQueueLimit(_ newLimit: Int) {
        condition.lock()
        limit = newLimit
        condition.unlock()
    }

    public func figures() -> PoolFigures {
        condition.lock()
        var f = PoolFigures(name: name, kind: .connections, size: size, live: created, busy: busy, queued: waiting, queueLimit: limit)
        condition.unlock()
        stats.fill(&f)
        return f
    }

    public func rollover() {
        condition.lock()
        let w = waiting
        condition.unlock()
        stats.rollover(currentQueue: w)
    }

    public func shutdown(timeoutNanos: UInt64) {
        condition.lock()
        idle.removeAll()
        condition.unlock()
    }
}

/// No resource of a `ResourcePool` came free in time: the job fails (500) and its route counts
/// a `NAME connection wait` timeout.
public struct ResourceTimeout: Error, TimeoutReporting, CustomStringConvertible {
    public var pool: String
    public var timeoutReason: String? { TimeoutCount.connectionWait(pool: pool) }
    public var description: String { "timed out waiting for a \(pool) connection" }
}
