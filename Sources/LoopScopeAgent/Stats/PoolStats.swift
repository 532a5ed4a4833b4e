import NIOConcurrencyHelpers
import LoopScopeWire

/// Throughput and timing figures of a pool. Thread-safe. Gauges (size, busy, queued) live in the pool.
package final class PoolStats: Sendable {
    private struct State {
        var queueWait = WindowedDistribution(history: .p99)
        var runTime = WindowedDistribution(history: .p99)
        var completed: UInt64 = 0
        var rejected: UInt64 = 0
        var failed: UInt64 = 0
        var timedOut: UInt64 = 0
        var completedThisSecond: UInt64 = 0
        var completedLastSecond: UInt64 = 0
        var maxQueuedThisSecond = 0
        var queueHistory: [Int] = []
        /// Requests for a worker or connection, this second and in the last ten closed ones.
        var arrivalsThisSecond: UInt64 = 0
        var arrivals = RollingSum<Count>()
        var countsArrivals = false
        /// The routes of the measured requests that asked (connection pools).
        var routes: Set<String> = []
    }

    /// A per-second count, summed over seconds.
    struct Count: Summable {
        var n = 0.0
        static let zero = Count()
        static func + (a: Count, b: Count) -> Count { Count(n: a.n + b.n) }
    }

    private let state = NIOLockedValueBox(State())

    package init() {}

    package func recordStart(queueWaitNanos: UInt64) {
        state.withLockedValue { $0.queueWait.record(queueWaitNanos / 1000) }
    }

    package func recordFinish(runNanos: UInt64, failed: Bool) {
        state.withLockedValue { s in
            s.runTime.record(runNanos / 1000)
            s.completed &+= 1
            s.completedThisSecond &+= 1
            if failed { s.failed &+= 1 }
        }
    }

    /// Records a finished compute job: its run time, and a failure when it produced no output.
    package func recordFinish(_ outcome: ComputeOutcome) {
        if case .failure = outcome.result {
            recordFinish(runNanos: outcome.wallNanos, failed: true)
        } else {
            recordFinish(runNanos: outcome.wallNanos, failed: false)
        }
    }

    /// A job ran past the pool's timeout: answered as failed, its worker replaced.
    package func recordTimedOut(afterNanos: UInt64) {
        state.withLockedValue { $0.timedOut &+= 1 }
        recordFinish(runNanos: afterNanos, failed: true)
    }

    /// A caller asked for a worker or connection (served, queued, refused or timed out alike):
    /// the demand that Little's law sizes a pool for; `route`, the route of the measured request
    /// it works for (listed in `PoolFigures.routes`).
    package func recordArrival(route: String?) {
        state.withLockedValue { s in
            s.arrivalsThisSecond &+= 1
            s.countsArrivals = true
            if let route { s.routes.insert(route) }
        }
    }

    /// A caller's wait for a connection ran past its timeout.
    package func recordTimedOutWait() {
        state.withLockedValue { $0.timedOut &+= 1 }
    }

    package func recordRejected() {
        state.withLockedValue { $0.rejected &+= 1 }
    }

    /// Notes a queue depth; the per-second history keeps the largest.
    package func observeQueue(_ depth: Int) {
        state.withLockedValue { s in s.maxQueuedThisSecond = max(s.maxQueuedThisSecond, depth) }
    }

    package func rollover(currentQueue: Int) {
        state.withLockedValue { s in
            s.queueWait.rollover()
            s.runTime.rollover()
            s.completedLastSecond = s.completedThisSecond
            s.completedThisSecond = 0
            s.arrivals.push(Count(n: Double(s.arrivalsThisSecond)))
            s.arrivalsThisSecond = 0
            WindowedDistribution.push(&s.queueHistory, max(s.maxQueuedThisSecond, currentQueue))
            s.maxQueuedThisSecond = currentQueue
        }
    }

    /// Fills the throughput and timing fields of `figures`.
    package func fill(_ figures: inout PoolFigures) {
        state.withLockedValue { s in
            figures.completed = s.completed
            figures.rejected = s.rejected
            figures.failed = s.failed
            figures.timedOut = s.timedOut
            figures.completedPerSecond = Double(s.completedLastSecond)
            figures.queueWait = s.queueWait.summary
            figures.runTime = s.runTime.summary
            figures.queueWaitHistogram = s.queueWait.cumulativeHistogram
            figures.queueHistory = s.queueHistory
            figures.arrivalsPerSecond = s.countsArrivals ? s.arrivals.last10s.n / Double(s.arrivals.seconds) : nil
            figures.routes = figures.kind == .connections ? s.routes.sorted() : nil
        }
    }

    package var footprintBytes: Int { state.withLockedValue { $0.queueWait.footprintBytes * 2 } }
}
