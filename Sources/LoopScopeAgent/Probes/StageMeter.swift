#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A task executor that runs a task's jobs on the cooperative pool, as the default executor
/// would, and counts them: each job after the first is the task resuming after a suspension.
/// One per task (a request's pipeline, a handler) so the count is that task's own. Thread-safe.
public final class SuspensionCounter: TaskExecutor {
    private let jobs = Atomic<Int>(0)

    public init() {}

    public func enqueue(_ job: consuming ExecutorJob) {
        jobs.add(1, ordering: .relaxed)
        globalConcurrentExecutor.enqueue(job)
    }

    /// Jobs enqueued so far.
    public var count: Int { jobs.load(ordering: .relaxed) }
}

/// Measures one async stage of a task that prefers a `SuspensionCounter`: its wall time and,
/// when it never suspended (so it held one cooperative-pool thread throughout: fake async),
/// that held time and the thread's CPU time over it. A stage that suspended awaited something;
/// its time is I/O and its CPU time cannot be read per thread.
public struct StageMeter: Sendable {
    /// What a finished stage did with its thread. Nanoseconds.
    public struct Reading: Sendable, Equatable {
        public var wallNanos: UInt64
        /// The stage never suspended and ran on one thread: it held that thread all along.
        public var held: Bool
        /// Thread CPU time over the stage, when held and asked for.
        public var cpuNanos: UInt64?
    }

    private let counter: SuspensionCounter
    private let jobs: Int
    private let thread: pthread_t
    private let startNanos: UInt64
    private let cpuStart: UInt64?

    /// Starts measuring on the current thread; call from the task that prefers `counter`.
    public init(_ counter: SuspensionCounter, measureCPU: Bool) {
        self.counter = counter
        jobs = counter.count
        thread = pthread_self()
        cpuStart = measureCPU ? Clocks.threadCPUNanos() : nil
        startNanos = Clocks.monotonicNanos()
    }

    /// Ends the stage; call from the same task.
    public func finish() -> Reading {
        let wall = Clocks.monotonicNanos() &- startNanos
        let held = counter.count == jobs && pthread_equal(thread, pthread_self()) != 0
        let cpu = held ? cpuStart.map { Clocks.threadCPUNanos() &- $0 } : nil
        return Reading(wallNanos: wall, held: held, cpuNanos: cpu)
    }
}
