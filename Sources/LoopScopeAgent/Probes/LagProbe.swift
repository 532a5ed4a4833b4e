import NIOCore
import NIOConcurrencyHelpers
import Synchronization

/// Measures how late a periodic timer fires on one event loop, at a fixed rate.
///
/// The timer is scheduled on the loop itself; a late firing means the loop was busy. The next
/// deadline is published for the watchdog, which reports a stall still in progress. Thread-safe.
package final class LagProbe: Sendable {
    package let stats: ExecutorStats
    /// Monotonic nanoseconds when the next firing is due (0 before the first).
    package let nextDeadlineNanos = Atomic<UInt64>(0)
    private let loop: any EventLoop
    private let intervalNanos: Int64
    private let scheduled = NIOLockedValueBox<(stopped: Bool, task: Scheduled<Void>?)>((false, nil))

    package init(loop: any EventLoop, stats: ExecutorStats, interval: TimeAmount) {
        self.loop = loop
        self.stats = stats
        self.intervalNanos = interval.nanoseconds
    }

    package func start() {
        schedule(at: .now() + .nanoseconds(intervalNanos))
    }

    package func stop() {
        scheduled.withLockedValue { s in
            s.stopped = true
            s.task?.cancel()
        }
    }

    private func schedule(at deadline: NIODeadline) {
        nextDeadlineNanos.store(deadline.uptimeNanoseconds, ordering: .relaxed)
        scheduled.withLockedValue { s in
            guard !s.stopped else { return }
            s.task = loop.scheduleTask(deadline: deadline) { [self] in
                let now = NIODeadline.now()
                let lag = now.uptimeNanoseconds &- deadline.uptimeNanoseconds
                stats.recordLag(nanos: lag)
                stats.noteBusy(nanos: lag, now: now.uptimeNanoseconds)
                var next = deadline + .nanoseconds(intervalNanos)
                if next < now { next = now + .nanoseconds(intervalNanos) }
                schedule(at: next)
            }
        }
    }
}
