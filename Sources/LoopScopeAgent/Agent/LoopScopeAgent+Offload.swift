import LoopScopeWire

extension LoopScopeAgent {
    /// Runs `body`, a named section of your code, where the operator says — changed live from
    /// the dashboard (select it, press 2 or 3) or `loopscope ctl route NAME threads --method OFFLOAD`:
    ///
    /// - `task` (the default): inline on the caller's executor, as if there were no offload
    ///   point. From an async handler that is a cooperative-pool thread, held while it runs.
    /// - `threads`: on the agent's thread pool; the caller awaits without holding a thread.
    ///
    /// The point is listed beside the routes (method `OFFLOAD`) with its rate, latency, CPU
    /// versus wall time, class and pool wait, and diagnosed like a route: CPU work inline on
    /// the cooperative pool gets `cpu-on-tasks:NAME` whose fix moves it to threads.
    ///
    /// ```swift
    /// let pdf = try await loopscope.offload("render-invoice") { try Invoice.render(order) }
    /// ```
    /// Throws what `body` throws, or `OffloadError.queueFull` when the pool refuses it.
    public func offload<T: Sendable>(_ name: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        let core = self.core
        let point = core.offloads.point(name, in: core)
        guard core.instrumented else { return try body() }
        let tally = core.offLoopTally
        let measureCPU = core.requestStarted(route: point.route, loopIndex: tally)
        let start = Clocks.monotonicNanos()
        switch (point.model, core.offloadPool) {
        case (.threads, let pool?):
            let result: Result<T, any Error> = await withCheckedContinuation { continuation in
                let outcome = OutcomeBox<T>()
                let accepted = pool.execute({ wait in
                    // Thread CPU time is a system call (not the vDSO): read for the sampled
                    // calls only, as inline.
                    let cpu0 = measureCPU ? Clocks.threadCPUNanos() : 0
                    let t0 = Clocks.monotonicNanos()
                    let result = Result { try body() }
                    let wall = Clocks.monotonicNanos() &- t0
                    let cpu = measureCPU ? Clocks.threadCPUNanos() &- cpu0 : nil
                    let failed: Bool
                    if case .failure = result { failed = true } else { failed = false }
                    self.finishOffload(point, status: failed ? 500 : 200, start: start, queue: wait, wall: wall, cpu: cpu, held: false)
                    outcome.value = result
                    return (wall, failed)
                }, then: {
                    continuation.resume(returning: outcome.value ?? .failure(OffloadError.queueFull(point: name)))
                })
                if !accepted {
                    self.finishOffload(point, status: 503, start: start, queue: 0, wall: 0, cpu: nil, held: false)
                    continuation.resume(returning: .failure(OffloadError.queueFull(point: name)))
                }
            }
            return try result.get()
        default:
            // Inline: placed so, or no thread pool (the agent stopped).
            core.threads.noteCooperativeThread()
            let token = core.board.enterTask(route: point.route, now: start)
            defer { core.board.exitTask(token) }
            let cpu0 = measureCPU ? Clocks.threadCPUNanos() : 0
            let outcome = Result { try body() }
            let wall = Clocks.monotonicNanos() &- start
            let failed: Bool
            if case .failure = outcome { failed = true } else { failed = false }
            finishOffload(point, status: failed ? 500 : 200, start: start, queue: 0, wall: wall,
                          cpu: measureCPU ? Clocks.threadCPUNanos() &- cpu0 : nil, held: true)
            return try outcome.get()
        }
    }

    /// Runs `job` on `input` where the operator says: inline or on threads as any offload
    /// point (named after the job), and also — when the agent has a process pool
    /// (`AgentConfiguration.offloadProcesses`) — in a worker process (`processes`, key 4):
    /// the input and output cross as JSON, a crash or a leak there takes only the worker.
    /// The worker processes must serve the job: `ProcessWorker.runIfRequested(offloading:)`
    /// first in `main`.
    ///
    /// Throws what the job throws (inline, threads), `OffloadError.processFailed` when it
    /// failed in a worker process (threw, the worker died, or it ran past the job timeout),
    /// or `OffloadError.queueFull`.
    public func offload<Input, Output>(_ job: OffloadJob<Input, Output>, _ input: Input) async throws -> Output {
        let core = self.core
        let point = core.offloads.point(job.name, in: core)
        point.allowProcesses()
        guard core.instrumented, point.model == .processes, let pool = core.offloadProcessPool else {
            return try await offload(job.name) { try job.body(input) }
        }
        _ = core.requestStarted(route: point.route, loopIndex: core.offLoopTally)
        let start = Clocks.monotonicNanos()
        let bytes = try job.encode(input)
        let outcome: ComputeOutcome = await withCheckedContinuation { continuation in
            pool.run(job.computeJob, input: JobInput(body: bytes)) { continuation.resume(returning: $0) }
        }
        switch outcome.result {
        case .output(let output):
            finishOffload(point, status: 200, start: start, queue: outcome.queueNanos, wall: outcome.wallNanos, cpu: outcome.cpuNanos, held: false)
            return try job.decode(output)
        case .failure(let failure):
            finishOffload(point, status: failure.status, start: start, queue: outcome.queueNanos, wall: outcome.wallNanos, cpu: outcome.cpuNanos, held: false)
            if case .queueFull = failure { throw OffloadError.queueFull(point: job.name) }
            throw OffloadError.processFailed(point: job.name, status: failure.status, message: failure.message)
        }
    }

    private func finishOffload(_ point: OffloadPoints.Point, status: Int, start: UInt64, queue: UInt64, wall: UInt64, cpu: UInt64?, held: Bool) {
        if held { core.taskStats.recordHeld(route: point.route, nanos: wall) }
        core.requestFinished(route: point.route, loopIndex: core.offLoopTally, RequestRecord(
            status: status, latencyNanos: Clocks.monotonicNanos() &- start, queueNanos: queue,
            computeNanos: wall, cpuNanos: cpu, heldNanos: held ? wall : 0, computed: status != 503
        ))
    }
}

/// Carries a job's result from the pool thread's work to its completion on the same thread.
/// `@unchecked Sendable`: written by the work, then read by `then`, in that order on one thread.
private final class OutcomeBox<T>: @unchecked Sendable {
    var value: Result<T, any Error>?
}
