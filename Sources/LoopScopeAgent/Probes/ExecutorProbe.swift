import NIOCore
import Synchronization
import CLoopScopeSys

/// Measures one executor's lag: how long a tiny job handed to it waits before it runs. The
/// watchdog's thread sends the jobs, one at a time, and decides how often (`ProbeCadence`);
/// a job still waiting is what the watchdog sees as a stall in progress.
///
/// An event loop's job is `execute`d on it; the cooperative pool's is a detached task (the
/// wait for a free pool thread). Thread-safe.
package final class ExecutorProbe: Sendable {
    package let stats: ExecutorStats
    private let enqueue: @Sendable (@escaping @Sendable () -> Void) -> Void

    package init(stats: ExecutorStats, enqueue: @escaping @Sendable (@escaping @Sendable () -> Void) -> Void) {
        self.stats = stats
        self.enqueue = enqueue
    }

    /// A probe of `loop`.
    package static func loop(_ loop: any EventLoop, stats: ExecutorStats) -> ExecutorProbe {
        ExecutorProbe(stats: stats) { job in loop.execute(job) }
    }

    /// A probe of the cooperative pool; each thread a job runs on is registered in `threads`.
    package static func cooperativePool(stats: ExecutorStats, threads: ThreadRegistry) -> ExecutorProbe {
        ExecutorProbe(stats: stats) { job in
            Task.detached {
                threads.noteCooperativeThread()
                job()
            }
        }
    }

    /// Sends a job unless one is still waiting. Called by the watchdog's thread only.
    /// `since` (at most `now`) dates it earlier when the executor is known to have been busy
    /// since then (a stage seen running on a loop from that moment): a job sent then would
    /// have waited that long.
    package func send(now: UInt64, since: UInt64? = nil) {
        guard stats.probePendingSince.load(ordering: .relaxed) == 0 else { return }
        stats.probePendingSince.store(min(since ?? now, now), ordering: .relaxed)
        enqueue { [stats] in
            let ran = Clocks.monotonicNanos()
            let lag = ran &- stats.probePendingSince.load(ordering: .relaxed)
            stats.recordLag(nanos: lag)
            stats.noteBusy(nanos: lag, now: ran)
            stats.probePendingSince.store(0, ordering: .relaxed)
        }
    }
}

/// When the watchdog sends an executor's probe: every `lagInterval` (5 ms) while the executor
/// is active — its threads used more than 2 % of a core over the last 20 ms or more (beyond
/// an allowance for the probes themselves), or it was seen busy (lag, a held stage of 2 ms or
/// more, or a stage running on a loop for 2 ms now) — and for two seconds after; every
/// `quietInterval` (100 ms; sent on the watchdog's look before it is due, so 80–100 ms)
/// otherwise, so an idle server is not woken 200 times a second per
/// executor. A CPU-bound stall, or a stage that blocks a loop, makes its executor active at the
/// watchdog's next look (within 20 ms); what the quiet cadence can miss is a blocking call on a
/// quiet executor outside any stage LoopScope knows of (an embedding app's own channel
/// handler), seen up to one quiet interval late. A plain value owned by the watchdog's thread.
package struct ProbeCadence {
    /// How often the watchdog looks at the executors' CPU time, at most.
    package static let lookNanos: UInt64 = 20_000_000
    package static let activeShare = 0.02
    /// CPU time a probe may cost its executor (waking a sleeping thread included) without
    /// making it look active.
    package static let probeAllowanceNanos: Int64 = 100_000
    /// Probes due this soon are sent with the others of the same pass: a fast one within a
    /// millisecond; a quiet one rides on the watchdog's looks (the pass before it is due, if
    /// that is within half a look), so an idle server's watchdog wakes only to look.
    package static let fastSlackNanos: UInt64 = 1_000_000
    package static let quietSlackNanos: UInt64 = lookNanos / 2

    let fastNanos: UInt64
    let quietNanos: UInt64
    private var windowStart: UInt64 = 0
    private var windowCPU: Int64 = -1
    private var probesInWindow: Int64 = 0
    private var activeUntil: UInt64 = 0
    private var busy = false
    private var lastSent: UInt64 = 0

    package init(fastNanos: UInt64, quietNanos: UInt64) {
        self.fastNanos = fastNanos
        self.quietNanos = max(quietNanos, fastNanos)
    }

    /// Takes a look at the executor: `cpuNanos` is its threads' CPU time so far (nil when
    /// unknown), `busy` whether it was seen busy lately. The CPU share is judged over at least
    /// `lookNanos`.
    package mutating func look(now: UInt64, cpuNanos: Int64?, busy: Bool) {
        self.busy = busy
        guard let cpu = cpuNanos, windowCPU >= 0, cpu >= windowCPU else {
            (windowStart, windowCPU, probesInWindow) = (now, cpuNanos ?? -1, 0)
            return
        }
        guard now &- windowStart >= Self.lookNanos else { return }
        let allowed = Self.activeShare * Double(now &- windowStart) + Double(probesInWindow * Self.probeAllowanceNanos)
        if Double(cpu - windowCPU) > allowed { activeUntil = now &+ ExecutorStats.busyHoldNanos }
        (windowStart, windowCPU, probesInWindow) = (now, cpu, 0)
    }

    package func active(now: UInt64) -> Bool { busy || now < activeUntil }

    /// When the next probe is due.
    package func nextSend(now: UInt64) -> UInt64 { lastSent &+ (active(now: now) ? fastNanos : quietNanos) }

    /// Whether a probe is due now (or so soon that it goes with this pass's).
    package func due(now: UInt64) -> Bool {
        nextSend(now: now) <= now &+ (active(now: now) ? Self.fastSlackNanos : Self.quietSlackNanos)
    }

    /// When the watchdog must wake to send the next probe: nil while quiet (the looks do),
    /// unless the quiet interval is shorter than a look.
    package func wake(now: UInt64) -> UInt64? { active(now: now) || quietNanos < Self.lookNanos ? nextSend(now: now) : nil }

    /// Notes a probe sent at `now`.
    package mutating func sent(now: UInt64) {
        lastSent = now
        probesInWindow += 1
    }
}
