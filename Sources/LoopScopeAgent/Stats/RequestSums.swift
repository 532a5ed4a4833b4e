/// Sums over the requests of some span of time (a second, ten seconds) that a route's
/// averages are computed from. Nanoseconds and counts, as `Double` so averages need no
/// conversions. A plain value.
package struct RequestSums: Summable {
    package var requests = 0.0
    /// Responses 5xx.
    package var errors = 0.0
    /// Requests whose split and held figures were measured: the averages' denominator.
    package var measured = 0.0
    /// Bytes waiting in the kernel for a busy loop.
    package var loopWait = 0.0
    /// Waiting for the compute stage to start.
    package var queue = 0.0
    /// Compute stages that ran, and their wall time.
    package var computed = 0.0
    package var compute = 0.0
    /// Compute stages whose thread CPU time was read, and that CPU time.
    package var cpuSamples = 0.0
    package var cpu = 0.0
    /// Awaiting I/O stages.
    package var io = 0.0
    /// Waiting for connections from connection pools.
    package var poolWait = 0.0
    /// Stages that held an event loop or a cooperative-pool thread, and for how long.
    package var heldSamples = 0.0
    package var held = 0.0
    /// The part of `held` that async stages held without suspending.
    package var asyncHeld = 0.0

    package static let zero = RequestSums()

    /// Adds one finished request.
    @inline(__always)
    package mutating func add(_ r: RequestRecord) {
        requests += 1
        if r.status >= 500 { errors += 1 }
        guard r.weight > 0 else { return }
        measured += 1
        loopWait += Double(r.loopWaitNanos)
        queue += Double(r.queueNanos)
        io += Double(r.ioNanos)
        poolWait += Double(r.poolWaitNanos)
        if r.computed {
            computed += 1
            compute += Double(r.computeNanos)
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
        RequestSums(requests: a.requests + b.requests, errors: a.errors + b.errors, measured: a.measured + b.measured, loopWait: a.loopWait + b.loopWait, queue: a.queue + b.queue,
                    computed: a.computed + b.computed, compute: a.compute + b.compute,
                    cpuSamples: a.cpuSamples + b.cpuSamples, cpu: a.cpu + b.cpu, io: a.io + b.io, poolWait: a.poolWait + b.poolWait,
                    heldSamples: a.heldSamples + b.heldSamples, held: a.held + b.held, asyncHeld: a.asyncHeld + b.asyncHeld)
    }
}
