#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import NIOCore
import NIOConcurrencyHelpers
import Synchronization
import LoopScopeWire
import CLoopScopeSys

/// A thread of its own that sends the executors' probes (`ProbeCadence` says when) and notices
/// an executor stalled right now: a probe waiting longer than the sampling threshold. While the
/// stall lasts it looks at the executor's threads every few milliseconds — the stack of a
/// running one, the system call of a blocked one — and charges the time since its last look to
/// what it saw (stall sites), so long stalls weigh by duration. Past the report threshold it
/// publishes the stall in progress and logs one event. Without a stall a pass reads each
/// executor's threads' CPU clocks and the probes' send times: every 20 ms on an idle server,
/// at the probes' cadence on a busy one. Thread-safe.
package final class Watchdog: Sendable {
    /// What the watchdog watches: an executor's probe, how to find its running stage, and its
    /// threads.
    package struct Watched: Sendable {
        var name: String
        var stats: ExecutorStats
        var probe: ExecutorProbe
        var runningStage: @Sendable () -> (route: Int, start: UInt64)?
        var threads: @Sendable () -> [Int32]
        /// System calls the executor's threads wait for work in (not stalls).
        var idleSyscalls: Set<String>
        /// The route whose stage was entered on a thread (for a pool, whose running stages are
        /// not all on CPU); nil where `runningStage` says it (a loop runs one stage at a time).
        var routeOnThread: (@Sendable (Int32) -> Int?)? = nil
        /// Forgets a thread that exited.
        var forget: @Sendable (Int32) -> Void = { _ in }
    }

    /// An event loop waits for work in epoll; a cooperative-pool thread in a futex (so a
    /// thread blocked on a lock there reads as idle: it cannot be told apart without a signal).
    package static let loopIdleSyscalls: Set<String> = ["epoll_wait", "epoll_pwait", "epoll_pwait2"]
    package static let poolIdleSyscalls: Set<String> = ["futex"]

    /// How often the watchdog looks while something is stalled.
    package static let stalledPeriodMicros: UInt32 = 4_000

    private struct Stall {
        var id: UInt64
        var since: UInt64
        var lastLook: UInt64
        var reported: Bool
    }

    private let watched: [Watched]
    private let reportThresholdNanos: UInt64
    /// Sampling starts when a probe is this late; changeable at runtime.
    package let sampleThresholdNanos: Synchronization.Atomic<UInt64>
    private let routeName: @Sendable (Int) -> String
    private let events: EventLog
    private let current: NIOLockedValueBox<[StallInProgress?]>
    private let running = Synchronization.Atomic<Bool>(true)
    /// Only the watchdog's thread (or a test calling `check` directly) touches these.
    private let looking: NIOLockedValueBox<(sampler: StackSampler?, stalls: [Stall?], next: UInt64, cadences: [ProbeCadence])>

    /// `probeInterval` and `quietProbeInterval` are the probes' two cadences (`ProbeCadence`).
    package init(watched: [Watched], probeInterval: TimeAmount, quietProbeInterval: TimeAmount,
                 sampleThresholdNanos: UInt64, reportThresholdNanos: UInt64, sampleStacks: Bool = true,
                 routeName: @escaping @Sendable (Int) -> String, events: EventLog) {
        self.watched = watched
        self.sampleThresholdNanos = Atomic(sampleThresholdNanos)
        self.reportThresholdNanos = reportThresholdNanos
        self.routeName = routeName
        self.events = events
        self.current = NIOLockedValueBox(Array(repeating: nil, count: watched.count))
        let cadence = ProbeCadence(fastNanos: UInt64(probeInterval.nanoseconds), quietNanos: UInt64(quietProbeInterval.nanoseconds))
        self.looking = NIOLockedValueBox((sampleStacks ? StackSampler() : nil, Array(repeating: nil, count: watched.count), 0,
                                          Array(repeating: cadence, count: watched.count)))
    }

    /// The stall in progress on executor `index`, if any.
    package func stall(_ index: Int) -> StallInProgress? {
        current.withLockedValue { $0[index] }
    }

    /// Samples taken, unanswered, and the mean time a sample cost the stalled thread (ns).
    /// Sampling's own figures, published after each pass so snapshots never wait for one.
    private let sampled = Synchronization.Atomic<UInt64>(0)
    private let unanswered = Synchronization.Atomic<UInt64>(0)
    private let handlerNanos = Synchronization.Atomic<UInt64>(0)

    /// Samples taken, unanswered, and the mean time a sample cost the stalled thread (ns).
    package var samplingCost: (samples: UInt64, unanswered: UInt64, handlerNanos: Double) {
        let n = sampled.load(ordering: .relaxed)
        return (n, unanswered.load(ordering: .relaxed), n > 0 ? Double(handlerNanos.load(ordering: .relaxed)) / Double(n) : 0)
    }

    /// Signalled when the watchdog's thread has finished its last pass.
    private let exited = DispatchSemaphore(value: 0)
    private let started = Synchronization.Atomic<Bool>(false)

    package func start() {
        started.store(true, ordering: .relaxed)
        WorkerThread.spawn(name: "ls-watchdog") { [self] in
            while running.load(ordering: .relaxed) {
                let now = Clocks.monotonicNanos()
                let until = sendProbes(now: now)
                let stalled = check(now: now)
                usleep(stalled ? Self.stalledPeriodMicros : sleepMicros(now: now, until: until))
            }
            exited.signal()
        }
    }

    /// Looks at each executor's activity and sends the probes that are due; returns when the
    /// watchdog must look next for an active executor: its next probe, or the moment its
    /// waiting probe passes the sampling threshold. A quiet executor's waiting probe is seen at
    /// the next look (a stall is then dated from when the probe was sent all the same).
    @discardableResult
    package func sendProbes(now: UInt64) -> UInt64 {
        let threshold = sampleThresholdNanos.load(ordering: .relaxed)
        return looking.withLockedValue { l in
            var earliest = UInt64.max
            for (i, w) in watched.enumerated() {
                // A stage running on a loop for 2 ms makes it busy now, CPU or not (a blocking
                // call on a quiet loop uses none). On a loop that was quiet, a probe goes at
                // once, dated from the stage's start (a job sent then would have waited that
                // long); on an active one the cadence's probes sample it as they come.
                let stageStart = w.routeOnThread == nil ? w.runningStage().map(\.start).flatMap { now &- $0 >= ExecutorStats.busyNanos ? $0 : nil } : nil
                let wasActive = l.cadences[i].active(now: now)
                if stageStart != nil { w.stats.noteBusy(nanos: ExecutorStats.busyNanos, now: now) }
                l.cadences[i].look(now: now, cpuNanos: Self.cpuNanos(of: w), busy: w.stats.seenBusyLately(now: now))
                let active = l.cadences[i].active(now: now)
                let pending = w.probe.stats.probePendingSince.load(ordering: .relaxed)
                guard pending == 0 else {
                    if active { earliest = min(earliest, pending &+ threshold) }
                    continue
                }
                let wakenByStage = stageStart != nil && !wasActive
                if wakenByStage || l.cadences[i].due(now: now) {
                    w.probe.send(now: now, since: wakenByStage ? stageStart : nil)
                    l.cadences[i].sent(now: now)
                    if active { earliest = min(earliest, now &+ threshold) }
                }
                if let wake = l.cadences[i].wake(now: now) { earliest = min(earliest, wake) }
            }
            return earliest
        }
    }

    /// The CPU time the executor's threads have used so far; nil when it has none, or when one
    /// has exited (cooperative-pool threads do after idling): that one is forgotten, and the
    /// sum, which just lost its share, starts a new window.
    private static func cpuNanos(of w: Watched) -> Int64? { cpuReading(of: w)?.nanos }

    /// `cpuNanos` with the number of threads summed.
    package static func cpuReading(of w: Watched) -> ExecutorStats.CPUReading? {
        let threads = w.threads()
        guard !threads.isEmpty else { return nil }
        var total: Int64 = 0
        var lost = false
        for tid in threads {
            let t = loopscope_thread_cpu_nanos(tid)
            if t >= 0 { total += t } else { lost = true; w.forget(tid) }
        }
        return lost ? nil : ExecutorStats.CPUReading(nanos: total, threads: threads.count)
    }

    /// With nothing stalled, the watchdog sleeps until `until` (from `sendProbes`) or its next
    /// look at the executors' activity, whichever comes first, at least 1 ms.
    func sleepMicros(now: UInt64, until: UInt64) -> UInt32 {
        let earliest = min(until, now &+ ProbeCadence.lookNanos)
        let wait = earliest > now ? (earliest - now) / 1000 : 0
        return UInt32(min(max(wait, 1_000), ProbeCadence.lookNanos / 1000))
    }

    /// Stops the watchdog and waits (up to a second) for its thread's last pass, so no probe
    /// is sent to a loop after this returns (its owner may shut the loops down next).
    package func stop() {
        guard running.exchange(false, ordering: .relaxed), started.load(ordering: .relaxed) else { return }
        _ = exited.wait(timeout: .now() + 1)
    }

    /// False once `stop()` was called (its thread ends within one sleep).
    package var isRunning: Bool { running.load(ordering: .relaxed) }

    /// One pass over the executors; returns whether any is stalled.
    @discardableResult
    package func check(now: UInt64) -> Bool {
        let threshold = sampleThresholdNanos.load(ordering: .relaxed)
        var anyStalled = false
        for (i, w) in watched.enumerated() {
            let waitingSince = w.probe.stats.probePendingSince.load(ordering: .relaxed)
            // A probe waiting for a millisecond already makes requests wait: have it measured
            // from the first request the loop reads after the stall.
            if waitingSince > 0, now > waitingSince { w.stats.noteBusy(nanos: now - waitingSince, now: now) }
            guard waitingSince > 0, now > waitingSince, now - waitingSince > threshold else {
                endStall(i)
                continue
            }
            anyStalled = true
            let stage = w.runningStage()
            // A loop's running stage began the stall; a pool's registered stages may be
            // awaiting, so its stall begins when its probe was sent.
            let since = w.routeOnThread == nil ? (stage.map { min($0.start, waitingSince) } ?? waitingSince) : waitingSince
            var route = w.routeOnThread == nil ? stage.map { routeName($0.route) } : nil
            let stall = looking.withLockedValue { l -> Stall in
                var s = l.stalls[i] ?? { l.next &+= 1; return Stall(id: l.next, since: since, lastLook: since, reported: false) }()
                let charged = now &- s.lastLook
                s.lastLook = now
                if let sampler = l.sampler {
                    var seen: [(site: Site, route: String?)] = []
                    for tid in w.threads() {
                        // The stage on the thread just before and just after the look: the
                        // sampled work may end (and leave the board) between the two.
                        let before = w.routeOnThread?(tid)
                        let look = sampler.look(tid: tid, idleSyscalls: w.idleSyscalls)
                        if look == .gone { w.forget(tid) }
                        guard let site = Site(look) else { continue }
                        seen.append((site, w.routeOnThread.map { find in (find(tid) ?? before).map(routeName) } ?? route))
                    }
                    // The interval is shared by the threads seen stalled: a site's time is
                    // executor time, not thread time multiplied by the pool's width.
                    let wallTime = Clocks.wallSeconds()
                    for (site, threadRoute) in seen {
                        w.stats.recordStall(StallSample(function: site.function, frames: site.frames, state: site.state, syscall: site.syscall,
                                                        route: threadRoute, chargedNanos: charged / UInt64(seen.count), stallID: s.id,
                                                        stallNanos: now &- s.since),
                                            second: Int(now / 1_000_000_000), wallTime: wallTime)
                        if route == nil { route = threadRoute }
                    }
                    sampled.store(sampler.samples, ordering: .relaxed)
                    unanswered.store(sampler.unanswered, ordering: .relaxed)
                    handlerNanos.store(sampler.handlerNanos, ordering: .relaxed)
                }
                l.stalls[i] = s
                return s
            }
            guard now - since >= reportThresholdNanos else { continue }
            let inProgress = StallInProgress(route: route, heldMicros: (now - since) / 1000)
            current.withLockedValue { $0[i] = inProgress }
            if !stall.reported {
                looking.withLockedValue { $0.stalls[i]?.reported = true }
                events.append(.stall, subject: w.name, old: "ok", new: "stalled \(inProgress.heldMicros / 1000) ms so far by \(route ?? "unknown code")", actor: "watchdog")
            }
        }
        return anyStalled
    }

    private func endStall(_ i: Int) {
        looking.withLockedValue { $0.stalls[i] = nil }
        current.withLockedValue { $0[i] = nil }
    }

    /// What a look at a stalled thread found, when it found it stalled: a running thread's
    /// stack, or a blocked thread's system call.
    private struct Site {
        var function: String
        var frames: [String]
        var state: StallState
        var syscall: String?

        init?(_ look: StackSampler.Look) {
            switch look {
            case .running(let function, let frames):
                self.init(function: function, frames: frames, state: .running, syscall: nil)
            case .blocked(let call):
                self.init(function: "blocked in \(call)", frames: [], state: .blocked, syscall: call)
            case .idle, .noAnswer, .gone:
                return nil
            }
        }

        init(function: String, frames: [String], state: StallState, syscall: String?) {
            self.function = function
            self.frames = frames
            self.state = state
            self.syscall = syscall
        }
    }
}
