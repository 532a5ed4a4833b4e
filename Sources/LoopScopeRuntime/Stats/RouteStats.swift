import NIOConcurrencyHelpers
import Synchronization
import LoopScopeWire

/// The figures of one route. Thread-safe: `record` may be called from any thread.
final class RouteStats: Sendable {
    private enum Field: Int, CaseIterable {
        case requests, queue, compute, cpu, cpuSamples, io, held, heldSamples, computed
    }

    private struct State {
        var latency = WindowedDistribution(history: .p99)
        var rolling = RollingSum(fields: Field.allCases.count)
        var requests: UInt64 = 0
        var status = StatusCounts()
        var heldCount: UInt64 = 0
        var heldTotalNanos: UInt64 = 0
    }

    private let state = NIOLockedValueBox(State())
    /// Requests between their start and their response; lock-free.
    let inFlight = Atomic<Int>(0)
    /// Stages over this hold time are charged to the route as "held".
    let heldThresholdNanos: UInt64

    init(heldThresholdNanos: UInt64) {
        self.heldThresholdNanos = heldThresholdNanos
    }

    /// Adds one finished request.
    func record(_ r: RequestRecord) {
        state.withLockedValue { s in
            s.requests &+= 1
            switch r.status {
            case ..<300: s.status.s2xx &+= 1
            case 300..<400: s.status.s3xx &+= 1
            case 400..<500: s.status.s4xx &+= 1
            default: s.status.s5xx &+= 1
            }
            s.latency.record(r.latencyNanos / 1000)
            s.rolling.add(Field.requests.rawValue, 1)
            s.rolling.add(Field.queue.rawValue, Double(r.queueNanos))
            s.rolling.add(Field.io.rawValue, Double(r.ioNanos))
            if r.computed {
                s.rolling.add(Field.computed.rawValue, 1)
                s.rolling.add(Field.compute.rawValue, Double(r.computeNanos))
                if let cpu = r.cpuNanos {
                    s.rolling.add(Field.cpu.rawValue, Double(cpu))
                    s.rolling.add(Field.cpuSamples.rawValue, 1)
                }
            }
            if r.heldNanos > 0 {
                s.rolling.add(Field.held.rawValue, Double(r.heldNanos))
                s.rolling.add(Field.heldSamples.rawValue, 1)
                if r.heldNanos >= heldThresholdNanos {
                    s.heldCount &+= 1
                    s.heldTotalNanos &+= r.heldNanos
                }
            }
        }
    }

    /// Closes the current second. Called once a second by the runtime's ticker.
    func rollover() {
        state.withLockedValue { s in
            s.latency.rollover()
            s.rolling.rollover()
        }
    }

    /// The route's figures as of the last completed second (counters are current).
    func figures(method: String, path: String, model: ExecutionModel) -> RouteFigures {
        let inFlight = self.inFlight.load(ordering: .relaxed)
        return state.withLockedValue { s in
            let sum = s.rolling.last10s
            func v(_ f: Field) -> Double { sum[f.rawValue] }
            let n = max(v(.requests), 1)
            let computed = v(.computed)
            let compute = ComputeFigures(
                wallMicros: computed > 0 ? v(.compute) / computed / 1000 : 0,
                cpuMicros: v(.cpuSamples) > 0 ? v(.cpu) / v(.cpuSamples) / 1000 : 0,
                samples: UInt64(computed)
            )
            let split = LatencySplit(
                queueMicros: v(.queue) / n / 1000,
                computeMicros: v(.compute) / n / 1000,
                ioMicros: v(.io) / n / 1000
            )
            return RouteFigures(
                method: method, path: path, model: model,
                requests: s.requests, inFlight: inFlight,
                rate1s: s.rolling.last1s[Field.requests.rawValue],
                rate10s: v(.requests) / Double(s.rolling.seconds),
                status: s.status,
                latency: s.latency.summary,
                p99History: s.latency.history,
                rateHistory: s.latency.countHistory,
                split: split,
                compute: compute,
                workClass: WorkClassifier.classify(compute: compute, ioMicros: split.ioMicros),
                held: HeldFigures(count: s.heldCount, totalMicros: s.heldTotalNanos / 1000, perRequestMicros: v(.heldSamples) > 0 ? v(.held) / n / 1000 : 0),
                histogram: s.latency.cachedBuckets
            )
        }
    }

    /// Approximate bytes held by this route's statistics.
    var footprintBytes: Int { state.withLockedValue { $0.latency.footprintBytes } + 512 }
}
