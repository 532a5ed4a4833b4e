import NIOCore
import NIOConcurrencyHelpers
import Synchronization

/// Measures the cooperative pool's lag: how late a task sleeping for a fixed interval resumes.
///
/// When the pool's threads are all held by blocking or CPU-bound stages, the probe cannot run;
/// the watchdog sees its deadline pass. Thread-safe.
package final class TaskLagProbe: Sendable {
    package let stats: ExecutorStats
    package let nextDeadlineNanos = Atomic<UInt64>(0)
    private let interval: TimeAmount
    private let task = NIOLockedValueBox<Task<Void, Never>?>(nil)

    private let threads: ThreadRegistry?

    /// `threads`, when given, learns each cooperative-pool thread the probe runs on.
    package init(stats: ExecutorStats, interval: TimeAmount, threads: ThreadRegistry? = nil) {
        self.stats = stats
        self.interval = interval
        self.threads = threads
    }

    package func start() {
        let stats = self.stats
        let interval = self.interval
        let probe = self
        let threads = self.threads
        task.withLockedValue { t in
            t = Task {
                while !Task.isCancelled {
                    threads?.noteCooperativeThread()
                    let deadline = NIODeadline.now() + interval
                    probe.nextDeadlineNanos.store(deadline.uptimeNanoseconds, ordering: .relaxed)
                    try? await Task.sleep(nanoseconds: UInt64(interval.nanoseconds))
                    stats.recordLag(nanos: NIODeadline.now().uptimeNanoseconds &- deadline.uptimeNanoseconds)
                }
            }
        }
    }

    package func stop() {
        task.withLockedValue { $0?.cancel() }
    }
}
