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
    }

    /// This route's index in the loops' tallies.
    package let route: Int
    private let state = NIOLockedValueBox(State())

    package init(route: Int) {
        self.route = route
    }

    /// Closes the current second: takes it from every loop. Called once a second by the ticker.
    package func rollover(from tallies: [LoopTally]) {
        state.withLockedValue { s in
            var second = RequestSums.zero
            for tally in tallies {
                second += tally.takeSecond(route: route, swapping: &s.spare)
                if s.spare.totalCount > 0 {
                    s.latency.absorb(s.spare)
                    s.spare = WindowedDistribution.emptySecond()
                }
            }
            s.latency.rollover()
            s.rolling.push(second)
        }
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
            let split = LatencySplit(
                loopWaitMicros: sum.loopWait / n / 1000,
                queueMicros: sum.queue / n / 1000,
                computeMicros: sum.compute / n / 1000,
                ioMicros: sum.io / n / 1000,
                poolWaitMicros: sum.poolWait / n / 1000
            )
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
                compute: compute,
                workClass: WorkClassifier.classify(compute: compute, ioMicros: split.ioMicros + split.poolWaitMicros),
                held: HeldFigures(count: c.heldCount, totalMicros: c.heldTotalNanos / 1000,
                                  perRequestMicros: sum.heldSamples > 0 ? sum.held / n / 1000 : 0,
                                  asyncMicros: sum.asyncHeld / n / 1000),
                histogram: s.latency.cachedBuckets,
                latencySumMicros: s.latency.cachedSumMicros
            )
        }
    }

    /// Approximate bytes held by this route's windows.
    package var footprintBytes: Int { state.withLockedValue { $0.latency.footprintBytes + $0.spare.estimatedFootprintInBytes } + 512 }
}
