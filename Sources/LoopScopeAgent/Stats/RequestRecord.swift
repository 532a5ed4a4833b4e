import LoopScopeWire

/// What one finished request contributes to its route's figures. Nanoseconds throughout.
package struct RequestRecord: Sendable {
    package var status: Int
    /// From the request's end being read to the response being written, plus `loopWaitNanos`.
    package var latencyNanos: UInt64
    /// Time the request's bytes waited in the kernel for the loop to read them (estimated).
    package var loopWaitNanos: UInt64 = 0
    /// Waiting for the compute stage to start (pool queue, task start, loop hop).
    package var queueNanos: UInt64 = 0
    /// Wall time of the compute stage.
    package var computeNanos: UInt64 = 0
    /// Thread CPU time of the compute stage, when it was measured.
    package var cpuNanos: UInt64? = nil
    /// Time awaiting I/O stages, but for `poolWaitNanos`.
    package var ioNanos: UInt64 = 0
    /// Of the awaited time, waiting for connections from `ConnectionPool`s.
    package var poolWaitNanos: UInt64 = 0
    /// Time the compute stage held an event loop or a cooperative-pool thread (0 in a pool),
    /// plus the time async stages held one without suspending.
    package var heldNanos: UInt64 = 0
    /// The part of `heldNanos` held by async stages that never suspended.
    package var asyncHeldNanos: UInt64 = 0
    /// Whether the compute stage ran (false for requests refused before it).
    package var computed: Bool = true
    /// The requests this one's split and held figures stand for: 1 for a request measured in
    /// full; for a sampled async one (`LoopTally.startedAsync`) itself and the unmeasured ones
    /// since the last measured one of its route (its held time is charged that many times);
    /// 0 for an unmeasured one, which carries latency and status only.
    package var weight: Int = 1
    /// For a 5xx response, what went wrong (the thrown error, or the body of the answer).
    package var error: String? = nil
    /// When it failed because something timed out, what (`TimeoutReporting.timeoutReason`).
    package var timeoutReason: String? = nil
    /// What it reported besides its time (body sizes, …): known for every request, measured or not.
    package var measures = RequestMeasures()

    package init(status: Int, latencyNanos: UInt64, loopWaitNanos: UInt64 = 0, queueNanos: UInt64 = 0, computeNanos: UInt64 = 0, cpuNanos: UInt64? = nil,
                 ioNanos: UInt64 = 0, poolWaitNanos: UInt64 = 0, heldNanos: UInt64 = 0, asyncHeldNanos: UInt64 = 0, computed: Bool = true,
                 weight: Int = 1, error: String? = nil, timeoutReason: String? = nil, measures: RequestMeasures = .init()) {
        self.status = status
        self.latencyNanos = latencyNanos
        self.loopWaitNanos = loopWaitNanos
        self.queueNanos = queueNanos
        self.computeNanos = computeNanos
        self.cpuNanos = cpuNanos
        self.ioNanos = ioNanos
        self.poolWaitNanos = poolWaitNanos
        self.heldNanos = heldNanos
        self.asyncHeldNanos = asyncHeldNanos
        self.computed = computed
        self.weight = weight
        self.error = error
        self.timeoutReason = timeoutReason
        self.measures = measures
    }

    /// A request whose latency and status are all that was measured.
    package static func unmeasured(status: Int, latencyNanos: UInt64, error: String? = nil, timeoutReason: String? = nil, measures: RequestMeasures = .init()) -> RequestRecord {
        RequestRecord(status: status, latencyNanos: latencyNanos, computed: false, weight: 0, error: error, timeoutReason: timeoutReason, measures: measures)
    }

    /// Its time in one part of the latency split.
    @inline(__always)
    package func nanos(of part: LatencySplit.Part) -> UInt64 {
        switch part {
        case .loopWait: return loopWaitNanos
        case .queue: return queueNanos
        case .compute: return computeNanos
        case .poolWait: return poolWaitNanos
        case .io: return ioNanos
        }
    }

    /// Its own split, microseconds.
    package var split: LatencySplit {
        var split = LatencySplit()
        for part in LatencySplit.Part.allCases { split[part] = Double(nanos(of: part)) / 1000 }
        return split
    }
}
