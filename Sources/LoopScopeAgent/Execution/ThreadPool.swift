import NIOCore
import LoopScopeWire

/// A resizable pool of dedicated OS threads with a bounded queue.
///
/// Unlike `NIOThreadPool`, it can be resized at runtime without losing queued work and it
/// exposes its queue depth. A compute job (`run`) that runs past the job timeout is answered
/// with `.timedOut` (504) at its deadline and its thread written off: another starts in its
/// place, the written-off one exits when the job returns. Thread-safe.
public final class ThreadPool: WorkerPool {
    /// Runs a job with its queue wait; returns false when its thread was written off (the job
    /// ran past its timeout), which then exits.
    typealias Job = @Sendable (_ queueWaitNanos: UInt64) -> Bool

    public let name: String
    /// Compute jobs running longer are answered 504 (0: no timeout).
    private let jobTimeoutNanos: UInt64
    private let events: EventLog?
    private let queue: WorkQueue<Job>
    let stats = PoolStats()
    public var statisticsFootprintBytes: Int { stats.footprintBytes }
    private static let idleTimeoutNanos: UInt64 = 1_000_000_000

    /// - Parameters:
    ///   - name: the name on the wire; by default the kind's, `threads`.
    ///   - size: threads to start.
    ///   - queueLimit: jobs that may wait; more are refused.
    ///   - polling: how long an idle thread polls for work before sleeping (see `PoolPolling`).
    ///   - jobTimeout: compute jobs (`run`) running longer are answered 504 and their thread
    ///     replaced; nil for none.
    public init(name: String = PoolKind.threads.rawValue, size: Int, queueLimit: Int, polling: TimeAmount = PoolPolling.defaultWindow,
                jobTimeout: TimeAmount? = nil, events: EventLog? = nil) {
        self.name = name
        self.jobTimeoutNanos = UInt64(max(0, jobTimeout?.nanoseconds ?? 0))
        self.events = events
        self.queue = WorkQueue(size: 0, limit: queueLimit, spinNanos: PoolPolling.nanos(polling))
        resize(to: size)
    }

    public func resize(to size: Int) {
        queue.resize(to: size, startWorker: startWorker)
    }

    public func setQueueLimit(_ limit: Int) {
        _ = queue.setLimit(limit)
    }

    /// Runs `job` on a pool thread; `completion` is called on that thread, or — when the job
    /// runs past the job timeout — on the deadline thread with `.timedOut`. Refused with
    /// `.queueFull` when the queue is at its limit.
    package func run(_ job: ComputeJob, input: JobInput, completion: @escaping @Sendable (ComputeOutcome) -> Void) {
        let stats = self.stats
        let timeout = jobTimeoutNanos
        let accepted = queue.submit { [self] wait in
            stats.recordStart(queueWaitNanos: wait)
            let deadline = timeout == 0 ? nil : JobDeadlines.shared.watch(deadline: Clocks.monotonicNanos() &+ timeout) { [self] in
                expired(job, queueNanos: wait, completion: completion)
            }
            var outcome = job.measuredRun(input)
            // Answered at its deadline already: this thread was written off.
            if let deadline, !JobDeadlines.shared.unwatch(deadline) { return false }
            outcome.queueNanos = wait
            stats.recordFinish(outcome)
            completion(outcome)
            return true
        }
        if accepted {
            stats.observeQueue(queue.gauges.queued)
        } else {
            stats.recordRejected()
            completion(ComputeOutcome(result: .failure(.queueFull(pool: name)), ran: false))
        }
    }

    /// A job ran past the timeout: answers it, writes its thread off and starts another.
    private func expired(_ job: ComputeJob, queueNanos: UInt64, completion: @Sendable (ComputeOutcome) -> Void) {
        let millis = Int(jobTimeoutNanos / 1_000_000)
        stats.recordTimedOut(afterNanos: jobTimeoutNanos)
        if queue.writeOff() { startWorker() }
        events?.append(.jobTimedOut, subject: name, old: "job \(job.name) over \(millis) ms", new: "thread written off, another started", actor: "runtime")
        completion(ComputeOutcome(result: .failure(.timedOut(pool: name, afterMillis: millis)), queueNanos: queueNanos, wallNanos: jobTimeoutNanos))
    }

    /// Runs `work` on a pool thread with its queue wait, records its run time (from the
    /// returned wall nanoseconds) and failure in the pool's figures, then calls `then` (so a
    /// caller resumed there sees the job counted). False when refused (the queue is full),
    /// which is counted too.
    package func execute(_ work: @escaping @Sendable (_ queueWaitNanos: UInt64) -> (wallNanos: UInt64, failed: Bool),
                         then: @escaping @Sendable () -> Void) -> Bool {
        let stats = self.stats
        let accepted = queue.submit { wait in
            stats.recordStart(queueWaitNanos: wait)
            let done = work(wait)
            stats.recordFinish(runNanos: done.wallNanos, failed: done.failed)
            then()
            return true
        }
        if accepted {
            stats.observeQueue(queue.gauges.queued)
        } else {
            stats.recordRejected()
        }
        return accepted
    }

    /// Runs an arbitrary closure on a pool thread (for benchmarks and tests). False when refused.
    public func submit(_ body: @escaping @Sendable () -> Void) -> Bool {
        queue.submit { _ in
            body()
            return true
        }
    }

    public func figures() -> PoolFigures {
        let g = queue.gauges
        var f = PoolFigures(name: name, kind: .threads, size: g.size, live: g.live, busy: g.busy, queued: g.queued, queueLimit: g.limit)
        stats.fill(&f)
        if jobTimeoutNanos == 0 { f.timedOut = nil }
        return f
    }

    public func rollover() {
        stats.rollover(currentQueue: queue.gauges.queued)
    }

    public func shutdown(timeoutNanos: UInt64) {
        _ = queue.waitUntilIdle(timeoutNanos: timeoutNanos)
        queue.resize(to: 0)
    }

    private func startWorker() {
        queue.workerStarted()
        let queue = self.queue
        WorkerThread.spawn(name: "ls-\(name)") {
            while true {
                switch queue.take(timeoutNanos: Self.idleTimeoutNanos) {
                case .job(let entry):
                    guard entry.item(Clocks.monotonicNanos() &- entry.enqueuedNanos) else { return }
                    queue.finished()
                case .retire:
                    return
                case .idle:
                    continue
                }
            }
        }
    }
}
