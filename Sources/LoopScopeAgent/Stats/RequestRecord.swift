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
    /// Time awaiting I/O stages.
    package var ioNanos: UInt64 = 0
    /// Time the compute stage held an event loop or a cooperative-pool thread (0 in a pool),
    /// plus the time async stages held one without suspending.
    package var heldNanos: UInt64 = 0
    /// The part of `heldNanos` held by async stages that never suspended.
    package var asyncHeldNanos: UInt64 = 0
    /// Whether the compute stage ran (false for requests refused before it).
    package var computed: Bool = true
    /// Whether the split and held figures above were measured. Async requests are measured
    /// one at a time per route and millisecond (`LoopTally.measureAsync`); the others carry
    /// latency and status only.
    package var measured: Bool = true
    /// The requests a measured one stands for (itself and the unmeasured ones since the last
    /// measured one of its route): its held time is charged that many times.
    package var weight: Int = 1

    package init(status: Int, latencyNanos: UInt64, loopWaitNanos: UInt64 = 0, queueNanos: UInt64 = 0, computeNanos: UInt64 = 0, cpuNanos: UInt64? = nil,
                 ioNanos: UInt64 = 0, heldNanos: UInt64 = 0, asyncHeldNanos: UInt64 = 0, computed: Bool = true,
                 measured: Bool = true, weight: Int = 1) {
        self.status = status
        self.latencyNanos = latencyNanos
        self.loopWaitNanos = loopWaitNanos
        self.queueNanos = queueNanos
        self.computeNanos = computeNanos
        self.cpuNanos = cpuNanos
        self.ioNanos = ioNanos
        self.heldNanos = heldNanos
        self.asyncHeldNanos = asyncHeldNanos
        self.computed = computed
        self.measured = measured
        self.weight = weight
    }

    /// A request whose latency and status are all that was measured.
    package static func unmeasured(status: Int, latencyNanos: UInt64) -> RequestRecord {
        RequestRecord(status: status, latencyNanos: latencyNanos, computed: false, measured: false)
    }
}
