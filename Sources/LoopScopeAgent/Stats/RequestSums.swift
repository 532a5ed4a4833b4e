import LoopScopeWire

/// Sums over the requests of some span of time (a second, ten seconds) that a route's
/// averages are computed from. Nanoseconds and counts, as `Double` so averages need no
/// conversions. A plain value.
package struct RequestSums: Summable {
    package var requests = 0.0
    /// Responses 5xx.
    package var errors = 0.0
    /// Requests whose split and held figures were measured: the averages' denominator.
    package var measured = 0.0
    /// Each part of the latency split, summed over the measured requests; indexed by
    /// `LatencySplit.Part.rawValue` (a fixed-size vector: no allocation on the request path).
    package var split = SIMD8<Double>()
    /// Compute stages that ran (their wall time is the split's compute part).
    package var computed = 0.0
    /// Compute stages whose thread CPU time was read, and that CPU time.
    package var cpuSamples = 0.0
    package var cpu = 0.0
    /// Stages that held an event loop or a cooperative-pool thread, and for how long.
    package var heldSamples = 0.0
    package var held = 0.0
    /// The part of `held` that async stages held without suspending.
    package var asyncHeld = 0.0
    /// Each `RequestMeasure`, summed over the requests that reported it, and how many did;
    /// indexed by `RequestMeasure.rawValue`.
    package var measures = SIMD8<Double>()
    package var measureCounts = SIMD8<Double>()

    package static let zero = RequestSums()

    /// The split's wall time of the compute stages.
    package var compute: Double { self[.compute] }

    /// The sum of one part of the split.
    package subscript(part: LatencySplit.Part) -> Double {
        get { split[part.rawValue] }
        set { split[part.rawValue] = newValue }
    }

    /// The mean of a measure over the requests that reported it (0 when none did).
    package func mean(of measure: RequestMeasure) -> Double {
        let n = measureCounts[measure.rawValue]
        return n > 0 ? measures[measure.rawValue] / n : 0
    }

    /// Adds one finished request.
    @inline(__always)
    package mutating func add(_ r: RequestRecord) {
        requests += 1
        if r.status >= 500 { errors += 1 }
        measures += r.measures.values
        measureCounts += r.measures.reported
        guard r.weight > 0 else { return }
        measured += 1
        for part in LatencySplit.Part.allCases { self[part] += Double(r.nanos(of: part)) }
        if r.computed {
            computed += 1
            if let c = r.cpuNanos {
                cpuSamples += 1
                cpu += Double(c)
            }
        }
        if r.heldNanos > 0 {
            heldSamples += 1
            held += Double(r.heldNanos)
            asyncHeld += Double(r.asyncHeldNanos)
        }
    }

    package static func + (a: RequestSums, b: RequestSums) -> RequestSums {
        RequestSums(requests: a.requests + b.requests, errors: a.errors + b.errors, measured: a.measured + b.measured, split: a.split + b.split,
                    computed: a.computed + b.computed, cpuSamples: a.cpuSamples + b.cpuSamples, cpu: a.cpu + b.cpu,
                    heldSamples: a.heldSamples + b.heldSamples, held: a.held + b.held, asyncHeld: a.asyncHeld + b.asyncHeld,
                    measures: a.measures + b.measures, measureCounts: a.measureCounts + b.measureCounts)
    }
}
