import Histogram
import NIOConcurrencyHelpers
import LoopScopeWire

/// The windowed figures of one route: every loop's second merged at rollover into a latency
/// distribution and ten seconds of sums. Thread-safe; off the request path (requests are
/// recorded into each loop's `LoopTally`).
package final class RouteStats: Sendable {
    private struct State {
        var latency = WindowedDistribution(history: .p99)
        var rolling = RollingSum<RequestSums>()
        /// Swapped with each loop's histogram at rollover; always empty between rollovers.
        var spare = WindowedDistribution.emptySecond()
        var errors: [RouteError] = []
        var slow: [SlowRequest] = []
        var timeouts: [String: UInt64] = [:]
        /// The slow threshold the loops' tallies got at the last rollover (`.max`: none yet).
        var slowNanos: UInt64 = .max
    }

    /// A request under 1 ms is never called slow, whatever the route's p99.
    package static let slowFloorNanos: UInt64 = 1_000_000

    /// This route's index in the loops' tallies.
    package let route: Int
    private let state = NIOLockedValueBox(State())

    package init(route: Int) {
        self.route = route
    }

    /// Closes the current second: takes it from every loop. Called once a second by the ticker.
    /// `fixedSlowNanos`: the slow-request threshold when the server sets one; nil for twice the
    /// route's 10 s p99 (at least `slowFloorNanos`; none until the route has a p99).
    package func rollover(from tallies: [LoopTally], fixedSlowNanos: UInt64? = nil) {
        state.withLockedValue { s in
            var second = RequestSums.zero
            let slow = Self.slowThreshold(p99Micros: s.latency.summary.last10s.p99, fixed: fixedSlowNanos)
            s.slowNanos = slow
            for tally in tallies {
                second += tally.takeSecond(route: route, swapping: &s.spare, slowThresholdNanos: slow)
                if s.spare.totalCount > 0 {
                    s.latency.absorb(s.spare)
                    s.spare = WindowedDistribution.emptySecond()
                }
            }
            s.latency.rollover()
            s.rolling.push(second)
        }
    }

    /// Keeps a notable request: its error message (a 5xx), and it as a slow request when it
    /// was over `slowThresholdNanos` and `logSlow` (the agent's rate limit let it through).
    /// Returns the slow request kept, if any.
    @discardableResult
    package func recordNotable(_ r: RequestRecord, now: Double, slowThresholdNanos: UInt64, logSlow: Bool) -> SlowRequest? {
        state.withLockedValue { s in
            if let reason = r.timeoutReason {
                // Reasons come from code, not requests; past a few, the rest share one.
                let key = s.timeouts[reason] != nil || s.timeouts.count < TimeoutCount.kept - 1 ? reason : TimeoutCount.other
                s.timeouts[key, default: 0] &+= 1
            }
            if r.status >= 500 {
                var message = r.error ?? "status \(r.status)"
                if message.count > RouteError.maxMessage { message = String(message.prefix(RouteError.maxMessage - 1)) + "…" }
                if let i = s.errors.firstIndex(where: { $0.status == r.status && $0.message == message }) {
                    var e = s.errors.remove(at: i)
                    e.count &+= 1
                    e.lastSeen = now
                    s.errors.append(e)
                } else {
                    if s.errors.count >= RouteError.kept { s.errors.removeFirst() }
                    s.errors.append(RouteError(status: r.status, message: message, firstSeen: now, lastSeen: now))
                }
            }
            guard logSlow, r.latencyNanos > slowThresholdNanos else { return nil }
            let slow = SlowRequest(time: now, status: r.status, latencyMicros: r.latencyNanos / 1000, thresholdMicros: slowThresholdNanos / 1000, split: r.split)
            if s.slow.count >= SlowRequest.kept { s.slow.removeFirst() }
            s.slow.append(slow)
            return slow
        }
    }

    /// The threshold over which a request of this route is slow now, the one its loops' tallies
    /// use: the server's fixed one, or the one set at the last rollover (`UInt64.max`: none yet).
    package func slowThreshold(fixedSlowNanos: UInt64?) -> UInt64 {
        fixedSlowNanos ?? state.withLockedValue { $0.slowNanos }
    }

    /// `fixed`, or twice a 10 s p99 of `p99Micros` and at least `slowFloorNanos` (none without a p99).
    static func slowThreshold(p99Micros: UInt64, fixed: UInt64?) -> UInt64 {
        if let fixed { return fixed }
        return p99Micros > 0 ? max(p99Micros * 2_000, slowFloorNanos) : .max
    }

    /// The route's figures: windows as of the last completed second, `counters` (summed over
    /// the loops) as they are now.
    package func figures(method: String, path: String, model: ExecutionModel, counters c: LoopTally.Counters) -> RouteFigures {
        state.withLockedValue { s in
            let sum = s.rolling.last10s
            let n = max(sum.measured, 1)
            let compute = ComputeFigures(
                wallMicros: sum.computed > 0 ? sum.compute / sum.computed / 1000 : 0,
                cpuMicros: sum.cpuSamples > 0 ? sum.cpu / sum.cpuSamples / 1000 : 0,
                samples: UInt64(sum.computed)
            )
            var split = LatencySplit()
            for part in LatencySplit.Part.allCases { split[part] = sum[part] / n / 1000 }
            var perRequest = PerRequestMeans()
            for measure in RequestMeasure.allCases { perRequest[measure] = sum.mean(of: measure) }
            return RouteFigures(
                method: method, path: path, model: model,
                requests: c.requests, inFlight: c.inFlight,
                rate1s: s.rolling.last1s.requests,
                rate10s: sum.requests / Double(s.rolling.seconds),
                status: c.status,
                latency: s.latency.summary,
                p99History: s.latency.history,
                rateHistory: s.latency.countHistory,
                split: split,
                perRequest: perRequest,
                compute: compute,
                workClass: WorkClassifier.classify(compute: compute, ioMicros: split.ioMicros + split.poolWaitMicros),
                held: HeldFigures(count: c.heldCount, totalMicros: c.heldTotalNanos / 1000,
                                  perRequestMicros: sum.heldSamples > 0 ? sum.held / n / 1000 : 0,
                                  asyncMicros: sum.asyncHeld / n / 1000),
                histogram: s.latency.cachedBuckets,
                latencySumMicros: s.latency.cachedSumMicros,
                errorsPerSecond: sum.errors / Double(s.rolling.seconds),
                timeouts: s.timeouts.isEmpty ? nil : s.timeouts.map { TimeoutCount(reason: $0.key, count: $0.value) }.sorted { $0.count != $1.count ? $0.count > $1.count : $0.reason < $1.reason },
                recentErrors: s.errors.isEmpty ? nil : s.errors,
                slowRequests: s.slow.isEmpty ? nil : s.slow
            )
        }
    }

    /// Approximate bytes held by this route's windows.
    package var footprintBytes: Int { state.withLockedValue { $0.latency.footprintBytes + $0.spare.estimatedFootprintInBytes } + 512 }
}
