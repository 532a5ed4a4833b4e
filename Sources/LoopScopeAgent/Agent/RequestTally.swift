import Synchronization

/// What a measured request's code reports about itself while it runs, found through a task
/// local so that child tasks (`async let`, task groups) add to their parent request's: the
/// time it waited for connections from `ConnectionPool`s. Thread-safe.
package final class RequestTally: Sendable {
    /// The route's template, named in the pools it used (`PoolFigures.routes`).
    package let route: String
    private let poolWait = Atomic<UInt64>(0)

    package init(route: String) { self.route = route }

    /// Adds time spent waiting for a connection. Concurrent waits (three `async let` calls)
    /// add up, so the figure can exceed the request's wall time; `finish` caps it.
    package func addPoolWait(nanos: UInt64) { poolWait.add(nanos, ordering: .relaxed) }

    package var poolWaitNanos: UInt64 { poolWait.load(ordering: .relaxed) }

    /// The request the current task works for, when it is being measured.
    @TaskLocal package static var current: RequestTally?
}
