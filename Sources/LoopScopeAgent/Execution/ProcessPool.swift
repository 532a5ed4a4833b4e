#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOConcurrencyHelpers
import NIOCore
import LoopScopeWire

/// A resizable pool of worker processes (the same executable in worker mode) with a bounded queue.
///
/// Each worker has a driver thread in the server that takes jobs from the shared queue and
/// talks to its process over pipes. A worker that dies is replaced at once, and the job it
/// held fails with `.workerDied` (HTTP 502); no job waits on a dead worker. A job running past
/// the job timeout fails with `.timedOut` (504) and its worker is killed and replaced.
/// Thread-safe.
public final class ProcessPool: WorkerPool {
    struct Job: Sendable {
        var job: ComputeJob
        var input: JobInput
        var completion: @Sendable (ComputeOutcome) -> Void
    }

    private struct Slot {
        var pid: Int32
        var jobsDone: UInt64 = 0
        var restarts: UInt64 = 0
        var busy = false
    }

    public let name: String
    private let command: WorkerCommand
    private let spinNanos: UInt64
    /// Jobs running longer are answered 504 and their worker killed (0: no timeout).
    private let jobTimeoutNanos: UInt64
    private let queue: WorkQueue<Job>
    let stats = PoolStats()
    public var statisticsFootprintBytes: Int { stats.footprintBytes }
    private let events: EventLog?
    /// Live worker slots by slot number.
    private let slots = NIOLockedValueBox<[Int: Slot]>([:])
    private let nextSlot = NIOLockedValueBox(0)
    /// Driver threads started and not yet ended (a driver may not have spawned its worker yet).
    private let drivers = NIOLockedValueBox(0)
    private static let idleCheckNanos: UInt64 = 100_000_000

    /// `name`: the name on the wire; by default the kind's, `processes`.
    /// `polling`: how long idle drivers and workers poll before sleeping (see `PoolPolling`);
    /// `jobTimeout`: jobs running longer are answered 504 and their worker replaced (nil: none).
    public init(name: String = PoolKind.processes.rawValue, size: Int, queueLimit: Int, command: WorkerCommand, events: EventLog? = nil,
                polling: TimeAmount = PoolPolling.defaultWindow, jobTimeout: TimeAmount? = nil) {
        signal(SIGPIPE, SIG_IGN)
        self.name = name
        self.jobTimeoutNanos = UInt64(max(0, jobTimeout?.nanoseconds ?? 0))
        self.spinNanos = PoolPolling.nanos(polling)
        self.command = command
        self.events = events
        self.queue = WorkQueue(size: 0, limit: queueLimit, spinNanos: spinNanos)
        resize(to: size)
    }

    public func resize(to size: Int) {
        queue.resize(to: size, startWorker: startDriver)
    }

    public func setQueueLimit(_ limit: Int) {
        _ = queue.setLimit(limit)
    }

    /// Runs `job` in a worker process; `completion` is called on a driver thread.
    package func run(_ job: ComputeJob, input: JobInput, completion: @escaping @Sendable (ComputeOutcome) -> Void) {
        if queue.submit(Job(job: job, input: input, completion: completion)) {
            stats.observeQueue(queue.gauges.queued)
        } else {
            stats.recordRejected()
            completion(ComputeOutcome(result: .failure(.queueFull(pool: name)), ran: false))
        }
    }

    /// Runs `job` in a worker process and calls `completion` with its output or failure (on a driver thread).
    public func submit(_ job: ComputeJob, input: JobInput, completion: @escaping @Sendable (Result<[UInt8], any Error>) -> Void) {
        run(job, input: input) { outcome in
            switch outcome.result {
            case .output(let bytes): completion(.success(bytes))
            case .failure(let failure): completion(.failure(failure))
            }
        }
    }

    /// Pids of the live workers, by slot.
    public var workerPIDs: [Int32] {
        slots.withLockedValue { s in s.keys.sorted().compactMap { s[$0]?.pid } }
    }

    public func figures() -> PoolFigures {
        let g = queue.gauges
        let workers = slots.withLockedValue { s in
            s.keys.sorted().map { k -> WorkerFigures in
                let slot = s[k]!
                return WorkerFigures(pid: slot.pid, jobsDone: slot.jobsDone, restarts: slot.restarts, residentBytes: 0, busy: slot.busy)
            }
        }.map { w -> WorkerFigures in
            var w = w
            w.residentBytes = WorkerProcess.residentBytes(pid: w.pid)
            return w
        }
        var f = PoolFigures(name: name, kind: .processes, size: g.size, live: workers.count, busy: g.busy, queued: g.queued, queueLimit: g.limit, workers: workers)
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
        // Waits for the drivers, not only the workers: a driver that had not spawned its worker
        // yet would spawn it after a shutdown that only saw no workers.
        let deadline = Clocks.monotonicNanos() + 3_000_000_000
        while drivers.withLockedValue({ $0 }) > 0, Clocks.monotonicNanos() < deadline { usleep(5000) }
    }

    // MARK: - Drivers

    private func startDriver() {
        queue.workerStarted()
        drivers.withLockedValue { $0 += 1 }
        let slot = nextSlot.withLockedValue { n -> Int in n += 1; return n }
        WorkerThread.spawn(name: "ls-\(name)-\(slot)") { [self] in drive(slot: slot) }
    }

    private func spawnWorker(slot: Int, restart: Bool) -> WorkerProcess? {
        for attempt in 0..<50 {
            do {
                let worker = try WorkerProcess.spawn(command, spinNanos: spinNanos)
                slots.withLockedValue { s in
                    var entry = s[slot] ?? Slot(pid: worker.pid)
                    entry.pid = worker.pid
                    if restart { entry.restarts += 1 }
                    s[slot] = entry
                }
                if restart {
                    events?.append(.workerStarted, subject: name, old: "-", new: "pid \(worker.pid)", actor: "runtime")
                }
                return worker
            } catch {
                if attempt == 0 { events?.append(.workerDied, subject: name, old: "-", new: "spawn failed: \(error)", actor: "runtime") }
                usleep(100_000)
            }
        }
        return nil
    }

    private func drive(slot: Int) {
        var worker = spawnWorker(slot: slot, restart: false)
        defer {
            worker?.stop()
            _ = slots.withLockedValue { $0.removeValue(forKey: slot) }
            drivers.withLockedValue { $0 -= 1 }
        }
        while true {
            switch queue.take(timeoutNanos: Self.idleCheckNanos) {
            case .retire:
                return
            case .idle:
                if let w = worker, !w.isAlive {
                    noteDeath(w, slot: slot)
                    worker = spawnWorker(slot: slot, restart: true)
                } else if worker == nil {
                    worker = spawnWorker(slot: slot, restart: true)
                }
            case .job(let entry):
                let wait = Clocks.monotonicNanos() &- entry.enqueuedNanos
                stats.recordStart(queueWaitNanos: wait)
                if let w = worker, !w.isAlive {
                    noteDeath(w, slot: slot)
                    worker = spawnWorker(slot: slot, restart: true)
                }
                var outcome: ComputeOutcome
                if let w = worker {
                    slots.withLockedValue { $0[slot]?.busy = true }
                    let t0 = Clocks.monotonicNanos()
                    let result = w.call(WorkerProtocol.request(job: entry.item.job.name, input: entry.item.input), timeoutNanos: jobTimeoutNanos)
                    let wall = Clocks.monotonicNanos() &- t0
                    slots.withLockedValue { s in
                        s[slot]?.busy = false
                        s[slot]?.jobsDone += 1
                    }
                    switch result {
                    case .reply(let reply):
                        outcome = WorkerProtocol.outcome(of: reply, wallNanos: wall)
                    case .died:
                        outcome = ComputeOutcome(result: .failure(.workerDied(pid: w.pid)), wallNanos: wall)
                        noteDeath(w, slot: slot)
                        worker = spawnWorker(slot: slot, restart: true)
                    case .timedOut:
                        let millis = Int(jobTimeoutNanos / 1_000_000)
                        outcome = ComputeOutcome(result: .failure(.timedOut(pool: name, afterMillis: millis)), wallNanos: wall)
                        kill(w.pid, SIGKILL)
                        w.discard()
                        events?.append(.jobTimedOut, subject: name, old: "job \(entry.item.job.name) over \(millis) ms",
                                       new: "worker pid \(w.pid) killed, another started", actor: "runtime")
                        worker = spawnWorker(slot: slot, restart: true)
                    }
                } else {
                    outcome = ComputeOutcome(result: .failure(.unavailable("no worker process could be started")), ran: false)
                }
                outcome.queueNanos = wait
                if case .failure(.timedOut) = outcome.result {
                    stats.recordTimedOut(afterNanos: outcome.wallNanos)
                } else {
                    stats.recordFinish(outcome)
                }
                queue.finished()
                entry.item.completion(outcome)
            }
        }
    }

    private func noteDeath(_ worker: WorkerProcess, slot: Int) {
        worker.discard()
        events?.append(.workerDied, subject: name, old: "pid \(worker.pid)", new: "restarting", actor: "runtime")
    }
}
