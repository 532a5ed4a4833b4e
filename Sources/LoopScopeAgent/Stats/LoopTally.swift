import Histogram
import NIOConcurrencyHelpers
import LoopScopeWire

/// What one event loop has recorded for each route: running counters, and the current
/// second's latency histogram and sums, which the once-a-second rollover takes away.
///
/// Only its own loop writes it, so its lock is contended only by the rollover and by
/// snapshots: nothing on the request path is shared between loops. Thread-safe.
package final class LoopTally: Sendable {
    /// Counters since start, except `inFlight`, which is now.
    package struct Counters: Summable {
        var inFlight = 0
        var requests: UInt64 = 0
        var status = StatusCounts()
        /// Requests whose compute stage held its executor at least the held threshold.
        var heldCount: UInt64 = 0
        var heldTotalNanos: UInt64 = 0

        package static let zero = Counters()

        package static func + (a: Counters, b: Counters) -> Counters {
            Counters(inFlight: a.inFlight + b.inFlight, requests: a.requests &+ b.requests,
                     status: StatusCounts(s2xx: a.status.s2xx &+ b.status.s2xx, s3xx: a.status.s3xx &+ b.status.s3xx,
                                          s4xx: a.status.s4xx &+ b.status.s4xx, s5xx: a.status.s5xx &+ b.status.s5xx),
                     heldCount: a.heldCount &+ b.heldCount, heldTotalNanos: a.heldTotalNanos &+ b.heldTotalNanos)
        }

        @inline(__always)
        mutating func count(status code: Int) {
            requests &+= 1
            switch code {
            case ..<300: status.s2xx &+= 1
            case 300..<400: status.s3xx &+= 1
            case 400..<500: status.s4xx &+= 1
            default: status.s5xx &+= 1
            }
        }
    }

    private struct Slot {
        var counters = Counters()
        /// Requests started here, for choosing which read thread CPU time.
        var started: UInt64 = 0
        /// Wall time of the last compute stage that ran.
        var lastComputeNanos: UInt64 = .max
        /// Async requests: when the last measured one started, how many were measured, and
        /// how many started since the last measured one.
        var lastMeasuredNanos: UInt64 = 0
        var measured: UInt64 = 0
        var sinceMeasured = 0
        /// Latency of the requests finished in the current second, microseconds.
        var latency = WindowedDistribution.emptySecond()
        var sums = RequestSums.zero
        /// Requests slower than this are worth a look (`RouteStats.slowThreshold`); set at rollover.
        var slowNanos: UInt64 = .max

        /// One stage in this many reads thread CPU time, by how long the route's stages last.
        var cpuSampleEvery: UInt64 { lastComputeNanos < LoopTally.shortStageNanos ? LoopTally.cpuSampleEveryShort : LoopTally.cpuSampleEvery }
    }

    /// Stages holding their executor this long or more are counted as held.
    package let heldThresholdNanos: UInt64
    private let slots: NIOLockedValueBox<[Slot]>

    /// The slow threshold of a route not rolled over yet: the server's fixed one, else none.
    private let initialSlowNanos: UInt64

    package init(routeCount: Int, heldThresholdNanos: UInt64, fixedSlowNanos: UInt64? = nil) {
        self.heldThresholdNanos = heldThresholdNanos
        let initialSlowNanos = fixedSlowNanos ?? .max
        self.initialSlowNanos = initialSlowNanos
        slots = NIOLockedValueBox(Array(repeating: Slot(slowNanos: initialSlowNanos), count: routeCount))
    }

    /// Adds slots for routes registered since (routes are only ever added).
    package func ensureRoutes(_ count: Int) {
        slots.withLockedValue { s in
            if s.count < count { s += Array(repeating: Slot(slowNanos: initialSlowNanos), count: count - s.count) }
        }
    }

    /// Thread CPU time (a system call, two per stage) is read for the first loop or task stage
    /// of a route on each loop and then for one in this many...
    package static let cpuSampleEvery: UInt64 = 8
    /// ...or one in this many while the route's stages are shorter than `shortStageNanos`: a
    /// stage that short cannot hide a blocking wait worth classifying, and its two system calls
    /// would cost more than the stage.
    package static let cpuSampleEveryShort: UInt64 = 64
    package static let shortStageNanos: UInt64 = 50_000

    /// What to measure of an async request (a handler on the cooperative pool).
    package struct AsyncPlan: Sendable {
        /// Count its suspensions (a hop onto a counting executor) to tell held from awaited.
        package var measure: Bool
        /// Read its thread CPU time too.
        package var measureCPU: Bool
        /// The requests it stands for (`RequestRecord.weight`).
        package var weight: Int
    }

    /// An async request is measured when no other of its route was within this long: every
    /// request of a quiet route, about a thousand a second of a busy one (whose others then
    /// cost no hop).
    package static let asyncMeasureGapNanos: UInt64 = 1_000_000

    /// An async request of `route` started at `now`: what to measure of it.
    @inline(__always)
    package func startedAsync(route: Int, now: UInt64) -> AsyncPlan {
        slots.withLockedValue { s in
            s[route].counters.inFlight += 1
            s[route].started &+= 1
            s[route].sinceMeasured += 1
            // A thread that read the clock before another took the lock has an older `now`:
            // that is within the gap, not a wrapped-around eternity.
            guard s[route].measured == 0 || (now > s[route].lastMeasuredNanos && now - s[route].lastMeasuredNanos >= Self.asyncMeasureGapNanos) else {
                return AsyncPlan(measure: false, measureCPU: false, weight: 0)
            }
            s[route].lastMeasuredNanos = now
            s[route].measured &+= 1
            let weight = s[route].sinceMeasured
            s[route].sinceMeasured = 0
            return AsyncPlan(measure: true, measureCPU: s[route].measured % s[route].cpuSampleEvery == 1, weight: weight)
        }
    }

    /// A request of `route` was read and routed. Returns whether its compute stage should read
    /// thread CPU time.
    @inline(__always)
    package func started(route: Int) -> Bool {
        slots.withLockedValue { s in
            s[route].counters.inFlight += 1
            s[route].started &+= 1
            return s[route].started % s[route].cpuSampleEvery == 1
        }
    }

    /// A request of `route` got its response; with `record` nil (uninstrumented) only counted.
    /// Returns whether it is notable: a 5xx, a timeout, or slower than its route's slow threshold.
    @inline(__always)
    @discardableResult
    package func finished(route: Int, status: Int, record: RequestRecord?) -> Bool {
        let threshold = heldThresholdNanos
        return slots.withLockedValue { s in
            s[route].counters.inFlight -= 1
            s[route].counters.count(status: status)
            guard let r = record else { return false }
            _ = s[route].latency.record(WindowedDistribution.clamp(r.latencyNanos / 1000))
            s[route].sums.add(r)
            if r.computed { s[route].lastComputeNanos = r.computeNanos }
            if r.heldNanos >= threshold, r.heldNanos > 0 {
                s[route].counters.heldCount &+= UInt64(r.weight)
                s[route].counters.heldTotalNanos &+= r.heldNanos &* UInt64(r.weight)
            }
            return status >= 500 || r.timeoutReason != nil || r.latencyNanos > s[route].slowNanos
        }
    }

    /// Takes a route's current second: its latency histogram is swapped with `spare` (which
    /// must be empty) and its sums are returned and cleared. O(1) under the lock.
    package func takeSecond(route: Int, swapping spare: inout Histogram<UInt32>, slowThresholdNanos: UInt64) -> RequestSums {
        slots.withLockedValue { s in
            guard route < s.count else { return .zero }
            s[route].slowNanos = slowThresholdNanos
            swap(&s[route].latency, &spare)
            defer { s[route].sums = .zero }
            return s[route].sums
        }
    }

    /// Every route's counters, by route index.
    package func counters() -> [Counters] {
        slots.withLockedValue { $0.map(\.counters) }
    }

    /// Requests of every route between being routed and getting their response.
    package var inFlight: Int {
        slots.withLockedValue { $0.reduce(0) { $0 + $1.counters.inFlight } }
    }

    /// Approximate bytes held.
    package var footprintBytes: Int {
        slots.withLockedValue { $0.reduce(0) { $0 + $1.latency.estimatedFootprintInBytes + 160 } }
    }
}
