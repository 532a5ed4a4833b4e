import CLoopScopeSys
import NIOConcurrencyHelpers
import Synchronization
import LoopScopeWire

/// Lag and hold figures of one executor: an event loop or the cooperative pool. Thread-safe.
package final class ExecutorStats: Sendable {
    private struct State {
        var lag = WindowedDistribution(history: .max)
        var stalls: UInt64 = 0
        /// Per route index, nanoseconds held in the current second.
        var heldNow: [UInt64]
        /// Ten seconds of per-route held nanoseconds.
        var heldRing: [[UInt64]]
        var ringNext = 0
        var culprit: Int?
        var culpritHeldNanos: UInt64 = 0
        var sites = StallSiteTable()
        /// Reads the executor's threads' CPU time so far; nil: not measured.
        var cpuRead: (@Sendable () -> CPUReading?)?
        var cpuBefore: (reading: CPUReading, at: UInt64)?
        /// On-CPU shares of the last ten seconds, newest last.
        var cpuRing: [Double] = []
    }

    /// `loop 0`, …, or `tasks`.
    package let name: String
    /// Lag above this counts as a stall, nanoseconds.
    package let stallThresholdNanos: UInt64
    /// Work holding this executor at least this long is charged to its route.
    package let heldThresholdNanos: UInt64
    private let state: NIOLockedValueBox<State>
    /// Until when (monotonic nanoseconds) the executor counts as seen busy lately: set whenever
    /// it is seen busy (lag or a held stage of 2 ms or more). While it is, requests read on a
    /// loop have their loop wait measured and the probes run at their fast cadence.
    private let busyUntil = Atomic<UInt64>(0)
    /// Monotonic nanoseconds when the probe job waiting now was sent (`ExecutorProbe`); 0 when
    /// none is waiting.
    package let probePendingSince = Atomic<UInt64>(0)

    /// How long a busy sighting lasts, and what counts as busy: 2 ms, loop wait's resolution
    /// (and more than an idle virtual CPU usually takes to wake, which a 1 ms bar mistook for
    /// work).
    package static let busyHoldNanos: UInt64 = 2_000_000_000
    package static let busyNanos: UInt64 = 2_000_000

    package init(name: String, routeCount: Int, stallThresholdNanos: UInt64, heldThresholdNanos: UInt64) {
        self.name = name
        self.stallThresholdNanos = stallThresholdNanos
        self.heldThresholdNanos = heldThresholdNanos
        state = NIOLockedValueBox(State(heldNow: Array(repeating: 0, count: routeCount), heldRing: Array(repeating: Array(repeating: 0, count: routeCount), count: 10)))
    }

    /// Notes that the executor was busy for `nanos` up to `now`.
    @inline(__always)
    package func noteBusy(nanos: UInt64, now: UInt64) {
        if nanos >= Self.busyNanos { busyUntil.store(now &+ Self.busyHoldNanos, ordering: .relaxed) }
    }

    /// Whether the executor was seen busy within the last `busyHoldNanos`.
    @inline(__always)
    package func seenBusyLately(now: UInt64) -> Bool { now < busyUntil.load(ordering: .relaxed) }

    /// The loop's latest loop-wait reading: when (monotonic nanoseconds) and what it read.
    /// Written only by the loop's own thread; relaxed, as each stands alone.
    private let waitReadAt = Atomic<UInt64>(0)
    private let waitRead = Atomic<UInt64>(0)

    /// How long a reading of loop wait serves the requests read after it on the same loop: an
    /// eighth of the kernel tick the reading is made of (4 ms at HZ=250), so at most ~2000
    /// `getsockopt` calls a second per loop. At saturation (17k /hello a second on one core,
    /// pinned) reading every request cost ~2.5 % of the loop's CPU (`perf`, 2026-12-05).
    package static let waitReuseNanos: UInt64 = 500_000

    /// How long the bytes just read from the TCP socket `fd` on this loop waited in the kernel
    /// for the loop (`loopscope_loop_wait_nanos`): 0 unless the loop was seen busy lately (a
    /// loop keeping time makes requests wait less than the kernel's clock can tell); a request
    /// read within `waitReuseNanos` of the loop's last reading takes that reading (the loop's
    /// current wait) instead of its own system call. `everyRequest` reads every time (to
    /// measure what the call costs). Call on the loop's thread.
    package func loopWait(fd: CInt, now: UInt64, everyRequest: Bool = false) -> UInt64 {
        guard fd >= 0 else { return 0 }
        if !everyRequest {
            guard seenBusyLately(now: now) else { return 0 }
            if now &- waitReadAt.load(ordering: .relaxed) < Self.waitReuseNanos { return waitRead.load(ordering: .relaxed) }
        }
        let wait = UInt64(max(0, loopscope_loop_wait_nanos(fd)))
        waitRead.store(wait, ordering: .relaxed)
        waitReadAt.store(now, ordering: .relaxed)
        return wait
    }

    /// Records how long a probe waited to run.
    package func recordLag(nanos: UInt64) {
        state.withLockedValue { s in
            s.lag.record(nanos / 1000)
            if nanos >= stallThresholdNanos { s.stalls &+= 1 }
        }
    }

    /// Makes room for routes registered since (routes are only ever added).
    package func ensureRoutes(_ count: Int) {
        state.withLockedValue { s in
            guard s.heldNow.count < count else { return }
            s.heldNow += Array(repeating: 0, count: count - s.heldNow.count)
            for i in s.heldRing.indices { s.heldRing[i] += Array(repeating: 0, count: count - s.heldRing[i].count) }
        }
    }

    /// Charges time a route's work held this executor, when it held it at least the held
    /// threshold (shorter holds are nobody's fault); a sampled request's `weight` times. Such a
    /// hold also marks the executor busy (`noteBusy`). Checked before the lock: the common case
    /// on a request path costs a comparison.
    @inline(__always)
    package func recordHeld(route: Int, nanos: UInt64, weight: Int = 1) {
        guard nanos >= heldThresholdNanos else { return }
        noteBusy(nanos: nanos, now: Clocks.monotonicNanos())
        state.withLockedValue { s in
            if route < s.heldNow.count { s.heldNow[route] &+= nanos &* UInt64(weight) }
        }
    }

    /// Charges a look at a stalled thread to its site. `second` counts whole seconds on the
    /// monotonic clock.
    package func recordStall(_ sample: StallSample, second: Int, wallTime: Double) {
        state.withLockedValue { $0.sites.record(sample, second: second, wallTime: wallTime) }
    }

    /// CPU time an executor's threads have used so far, summed, and how many they are.
    package struct CPUReading: Sendable {
        var nanos: Int64
        var threads: Int
    }

    /// Measures the share of each second the executor's threads ran on a CPU from `read`
    /// (nil while it has no threads, or when one just exited), read at each rollover.
    package func measureCPU(_ read: @escaping @Sendable () -> CPUReading?) {
        state.withLockedValue { $0.cpuRead = read }
    }

    /// Closes the current second and recomputes the culprit. A probe still waiting, for
    /// `busyNanos` or more, is a sample of the second's lag (how long it has waited so far): a
    /// second the executor spent stalled answers no probe, and would otherwise read as no lag
    /// at all. The probe records its whole wait when it runs (and counts the stall then).
    package func rollover(now: UInt64 = Clocks.monotonicNanos()) {
        let pending = probePendingSince.load(ordering: .relaxed)
        state.withLockedValue { s in
            if pending != 0, now > pending, now - pending >= Self.busyNanos { s.lag.record((now - pending) / 1000) }
            s.lag.rollover()
            if let read = s.cpuRead {
                let reading = read()
                // A second is measured when both ends read the same threads (none exited).
                if let reading, let before = s.cpuBefore, now > before.at, reading.nanos >= before.reading.nanos, reading.threads == before.reading.threads {
                    let share = Double(reading.nanos - before.reading.nanos) / (Double(now - before.at) * Double(max(1, reading.threads)))
                    s.cpuRing.append(min(1, share))
                    if s.cpuRing.count > 10 { s.cpuRing.removeFirst() }
                }
                s.cpuBefore = reading.map { ($0, now) }
            }
            s.heldRing[s.ringNext] = s.heldNow
            s.ringNext = (s.ringNext + 1) % s.heldRing.count
            for i in s.heldNow.indices { s.heldNow[i] = 0 }
            var best: (Int, UInt64)? = nil
            for route in s.heldNow.indices {
                var total: UInt64 = 0
                for slot in s.heldRing { total &+= slot[route] }
                if total > 0, total > (best?.1 ?? 0) { best = (route, total) }
            }
            s.culprit = best?.0
            s.culpritHeldNanos = best?.1 ?? 0
        }
    }

    /// The executor's figures; `routeName` maps a route index to its template.
    package func figures(routeName: (Int) -> String, stall: StallInProgress?, second: Int) -> LoopFigures {
        state.withLockedValue { s in
            LoopFigures(
                name: name, lag: s.lag.summary, stalls: s.stalls,
                culprit: s.culprit.map(routeName), culpritHeldMicros: s.culpritHeldNanos / 1000,
                lagHistory: s.lag.history, stallInProgress: stall,
                stallSites: s.sites.sites(second: second), stallSitesOmitted: s.sites.omittedCount(), lagHistogram: s.lag.cumulativeHistogram,
                cpu: s.cpuRing.last, cpu10s: s.cpuRing.isEmpty ? nil : s.cpuRing.reduce(0, +) / Double(s.cpuRing.count)
            )
        }
    }

    package var footprintBytes: Int { state.withLockedValue { $0.lag.footprintBytes + $0.heldNow.count * 88 + $0.sites.footprintBytes } }
}
