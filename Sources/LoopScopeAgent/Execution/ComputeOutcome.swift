/// How a compute stage ended, with its timing. Nanoseconds.
package struct ComputeOutcome: Sendable {
    package enum Result: Sendable {
        case output([UInt8])
        case failure(ComputeFailure)
    }

    package var result: Result
    /// From dispatch to the stage starting.
    package var queueNanos: UInt64 = 0
    package var wallNanos: UInt64 = 0
    package var cpuNanos: UInt64? = nil
    /// Time an event loop or cooperative-pool thread was held (0 in pools).
    package var heldNanos: UInt64 = 0
    /// The part of `heldNanos` held by async stages that never suspended.
    package var asyncHeldNanos: UInt64 = 0
    package var ran: Bool = true
    /// Of `wallNanos`, waiting for resources of a `ResourcePool` (e.g. a database connection).
    package var poolWaitNanos: UInt64 = 0

    package init(result: Result, queueNanos: UInt64 = 0, wallNanos: UInt64 = 0, cpuNanos: UInt64? = nil, heldNanos: UInt64 = 0, asyncHeldNanos: UInt64 = 0, ran: Bool = true) {
        self.result = result
        self.queueNanos = queueNanos
        self.wallNanos = wallNanos
        self.cpuNanos = cpuNanos
        self.heldNanos = heldNanos
        self.asyncHeldNanos = asyncHeldNanos
        self.ran = ran
    }
}

/// Why a compute stage produced no output; each maps to one HTTP status.
package enum ComputeFailure: Error, Sendable, Equatable {
    /// 400: the job rejected its input.
    case badInput(String)
    /// 500: the job threw.
    case failed(String)
    /// 503 with Retry-After: the pool's queue is full.
    case queueFull(pool: String)
    /// 502: the worker process died while running the job.
    case workerDied(pid: Int32)
    /// 503: the pool is stopping.
    case unavailable(String)
    /// 504: the job ran past its pool's timeout (the worker process was killed and replaced,
    /// or the thread written off and replaced).
    case timedOut(pool: String, afterMillis: Int)
    /// 504: the request was not answered within its route's deadline.
    case deadline(millis: Int)
    /// 504: something the job waited for timed out (`TimeoutReporting`), e.g. a connection.
    case callTimedOut(reason: String, message: String)

    package var status: Int {
        switch self {
        case .badInput: return 400
        case .failed: return 500
        case .queueFull, .unavailable: return 503
        case .workerDied: return 502
        case .timedOut, .deadline, .callTimedOut: return 504
        }
    }

    package var message: String {
        switch self {
        case .badInput(let m): return "bad request: \(m)"
        case .failed(let m): return "internal error: \(m)"
        case .queueFull(let pool): return "overloaded: the \(pool) pool's queue is full"
        case .workerDied(let pid): return "bad gateway: worker process \(pid) died while running the job"
        case .unavailable(let m): return "unavailable: \(m)"
        case .timedOut(let pool, let ms): return "gateway timeout: the job ran past the \(pool) pool's \(ms) ms job timeout"
        case .deadline(let ms): return "gateway timeout: no answer within the route's \(ms) ms deadline"
        case .callTimedOut(_, let m): return "gateway timeout: \(m)"
        }
    }

    package init(thrown error: any Error) {
        switch error {
        case JobError.badInput(let m): self = .badInput(m)
        case JobError.failed(let m): self = .failed(m)
        case let t as any TimeoutReporting where t.timeoutReason != nil: self = .callTimedOut(reason: t.timeoutReason!, message: String(describing: error))
        default: self = .failed(String(describing: error))
        }
    }
}

extension ComputeJob {
    /// Runs the job on the calling thread, measuring wall time and, when `measureCPU`, thread
    /// CPU time (a system call on Linux, so the runtime samples it rather than paying it always).
    /// `startedAt`, when given, is a monotonic reading the caller just took (saves a clock read).
    package func measuredRun(_ input: JobInput, measureCPU: Bool = true, startedAt: UInt64? = nil) -> ComputeOutcome {
        let cpu0 = measureCPU ? Clocks.threadCPUNanos() : 0
        let t0 = startedAt ?? Clocks.monotonicNanos()
        let result = resultOf(input)
        let wall = Clocks.monotonicNanos() &- t0
        return ComputeOutcome(result: result, wallNanos: wall, cpuNanos: measureCPU ? Clocks.threadCPUNanos() &- cpu0 : nil)
    }

    /// Runs the job, turning a thrown error into its failure.
    package func resultOf(_ input: JobInput) -> ComputeOutcome.Result {
        do {
            return .output(try run(input))
        } catch {
            return .failure(ComputeFailure(thrown: error))
        }
    }
}
