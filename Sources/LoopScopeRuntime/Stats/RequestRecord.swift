/// What one finished request contributes to its route's figures. Nanoseconds throughout.
struct RequestRecord: Sendable {
    var status: Int
    /// From the request's end being read to the response being written, plus `loopWaitNanos`.
    var latencyNanos: UInt64
    /// Time the request's bytes waited in the kernel for the loop to read them (estimated).
    var loopWaitNanos: UInt64 = 0
    /// Waiting for the compute stage to start (pool queue, task start, loop hop).
    var queueNanos: UInt64 = 0
    /// Wall time of the compute stage.
    var computeNanos: UInt64 = 0
    /// Thread CPU time of the compute stage, when it was measured.
    var cpuNanos: UInt64? = nil
    /// Time awaiting I/O stages.
    var ioNanos: UInt64 = 0
    /// Time the compute stage held an event loop or a cooperative-pool thread (0 in a pool),
    /// plus the time async stages held one without suspending.
    var heldNanos: UInt64 = 0
    /// The part of `heldNanos` held by async stages that never suspended.
    var asyncHeldNanos: UInt64 = 0
    /// Whether the compute stage ran (false for requests refused before it).
    var computed: Bool = true
}
