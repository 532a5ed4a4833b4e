import LoopScopeWire

/// What the runtime needs of a pool of workers: run a compute job, resize, limit, report.
///
/// Implementations are thread-safe; completions are called on a worker thread.
public protocol WorkerPool: AnyObject, Sendable {
    /// `threads`, `processes`, …: the name used on the wire.
    var name: String { get }
    /// Sets the number of workers. Growing starts workers; shrinking retires idle workers first.
    func resize(to size: Int)
    /// Sets the queue limit. Jobs already queued stay queued.
    func setQueueLimit(_ limit: Int)
    /// Current gauges and figures.
    func figures() -> PoolFigures
    /// Closes the current second of the pool's statistics.
    func rollover()
    /// Stops accepting jobs, lets queued jobs finish (up to `timeoutNanos`), retires every worker.
    func shutdown(timeoutNanos: UInt64)
    /// Approximate bytes its statistics hold.
    var statisticsFootprintBytes: Int { get }
}

extension WorkerPool {
    public var statisticsFootprintBytes: Int { 0 }
}

/// Shuts `pools` down (each waits up to `timeoutNanos` for its queue) on a thread of its own,
/// so the caller's task does not block a cooperative-pool thread meanwhile.
package func shutDown(_ pools: [any WorkerPool], timeoutNanos: UInt64 = 5_000_000_000) async {
    await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
        WorkerThread.spawn(name: "ls-shutdown") {
            for p in pools { p.shutdown(timeoutNanos: timeoutNanos) }
            c.resume()
        }
    }
}
