import NIOCore
import NIOConcurrencyHelpers
import Synchronization
import Logging
import LoopScopeWire
import LoopScopeAgent

/// The runtime's shared state: its routes and their execution models, the router, the thread
/// and process pools, on top of the agent (`AgentCore`: probes, statistics, control socket).
/// Thread-safe.
final class RuntimeCore: RouteModelControl {
    let configuration: ServerConfiguration
    let agent: AgentCore
    let routes: [RouteRuntime]
    let router: Router
    let threadPool: ThreadPool
    let processPool: ProcessPool
    /// Pools the application registered (e.g. database connections): reported and resizable.
    let extraPools: [any WorkerPool]
    /// The HTTP listener's connections: admission against the limit and what was closed why.
    let connections: ConnectionStats

    var instrumented: Bool { agent.instrumented }
    var logger: Logger { agent.logger }
    var board: ActivityBoard { agent.board }
    var loopStats: [ExecutorStats] { agent.loopStats }
    var taskStats: ExecutorStats { agent.taskStats }
    var threads: ThreadRegistry { agent.threads }

    init(configuration: ServerConfiguration, routes: [Route], extraPools: [any WorkerPool], logger: Logger) throws(RuntimeError) {
        try configuration.validate()
        for route in routes where route.model == .processes {
            if let why = Self.unservedInWorkers(route.job, configuration) { throw RuntimeError.invalidRoute("\(route.template): \(why)") }
        }
        self.configuration = configuration
        let runtimes = routes.enumerated().map { RouteRuntime(index: $0.offset, route: $0.element) }
        self.routes = runtimes
        self.router = try Router(routes.map { ($0.method, $0.template) })
        let agent = try AgentCore(configuration: configuration.agent, loopCount: configuration.eventLoops,
                                  routes: runtimes.map { rt in AgentRoute(method: rt.route.method, path: rt.name, stats: rt.stats, model: { rt.model }) },
                                  logger: logger)
        self.agent = agent
        self.threadPool = ThreadPool(size: configuration.threadPoolSize, queueLimit: configuration.threadQueueLimit, polling: configuration.poolPolling,
                                     jobTimeout: configuration.jobTimeout, events: agent.events)
        self.processPool = ProcessPool(size: configuration.processPoolSize, queueLimit: configuration.processQueueLimit,
                                       command: configuration.workerCommand ?? .currentExecutable, events: agent.events, polling: configuration.poolPolling,
                                       jobTimeout: configuration.jobTimeout)
        self.extraPools = extraPools
        let connections = ConnectionStats(limit: configuration.connections.maxConnections)
        self.connections = connections
        agent.setConnectionFigures { connections.figures() }
        agent.register(pools: [threadPool, processPool] + extraPools)
        agent.setOffloadPool(threadPool)
        agent.setRouteControl(self)
    }

    var pools: [any WorkerPool] { agent.pools }

    /// Why the worker processes would not run `job`, when this server knows their jobs: they
    /// are this executable (the default command), and its main registered what it serves.
    static func unservedInWorkers(_ job: ComputeJob, _ configuration: ServerConfiguration) -> String? {
        guard configuration.workerCommand.map({ $0 == .currentExecutable }) ?? true,
              let served = ProcessWorker.registeredJobNames, !served.contains(job.name) else { return nil }
        return "its job '\(job.name)' is not served by the worker processes (this executable's ProcessWorker.runIfRequested(jobs:) lists \(served.sorted().joined(separator: ", ")))"
    }

    // MARK: - Running compute stages

    /// Runs a route's compute stage under `model`. `completion` runs on whatever thread finished the stage.
    /// `measureCPU` (from `requestStarted`) says whether a loop or task stage reads thread CPU
    /// time; pools always read it.
    func compute(_ rt: RouteRuntime, model: ExecutionModel, input: JobInput, loop: any EventLoop, loopIndex: Int, measureCPU: Bool,
                 completion: @escaping @Sendable (ComputeOutcome) -> Void) {
        switch model {
        case .loop:
            if loop.inEventLoop {
                completion(runOnLoop(rt, input: input, loopIndex: loopIndex, measureCPU: measureCPU))
            } else {
                let enqueued = Clocks.monotonicNanos()
                loop.execute { [self] in
                    let started = Clocks.monotonicNanos()
                    var outcome = runOnLoop(rt, input: input, loopIndex: loopIndex, measureCPU: measureCPU)
                    outcome.queueNanos = started &- enqueued
                    completion(outcome)
                }
            }
        case .task:
            let enqueued = Clocks.monotonicNanos()
            let tally = instrumented ? RequestTally(route: rt.name) : nil
            Task { [self] in
                let started = Clocks.monotonicNanos()
                var outcome = RequestTally.$current.withValue(tally) { runOnTask(rt, input: input, measureCPU: measureCPU) }
                outcome.queueNanos = started &- enqueued
                outcome.poolWaitNanos = min(tally?.poolWaitNanos ?? 0, outcome.wallNanos)
                completion(outcome)
            }
        case .threads:
            // A job waiting for a `ResourcePool` (a blocking database driver) finds its
            // request's tally on its thread.
            guard instrumented else { return threadPool.run(rt.route.job, input: input, completion: completion) }
            let tally = RequestTally(route: rt.name)
            let job = rt.route.job
            let attributed = ComputeJob(job.name) { input in try RequestTally.$current.withValue(tally) { try job.run(input) } }
            threadPool.run(attributed, input: input) { outcome in
                var o = outcome
                o.poolWaitNanos = min(tally.poolWaitNanos, o.wallNanos)
                completion(o)
            }
        case .processes:
            processPool.run(rt.route.job, input: input, completion: completion)
        }
    }

    /// Runs the stage on the calling event loop, charging the time it holds the loop.
    @inline(__always)
    func runOnLoop(_ rt: RouteRuntime, input: JobInput, loopIndex: Int, measureCPU: Bool) -> ComputeOutcome {
        guard instrumented else { return Self.plainRun(rt.route.job, input) }
        let now = Clocks.monotonicNanos()
        board.enterLoop(loopIndex, route: rt.index, now: now)
        var outcome = rt.route.job.measuredRun(input, measureCPU: measureCPU, startedAt: now)
        board.exitLoop(loopIndex)
        outcome.heldNanos = outcome.wallNanos
        loopStats[loopIndex].recordHeld(route: rt.index, nanos: outcome.wallNanos)
        return outcome
    }

    /// Runs the stage on the current cooperative-pool thread, charging the time it holds it.
    func runOnTask(_ rt: RouteRuntime, input: JobInput, measureCPU: Bool) -> ComputeOutcome {
        guard instrumented else { return Self.plainRun(rt.route.job, input) }
        threads.noteCooperativeThread()
        let now = Clocks.monotonicNanos()
        let token = board.enterTask(route: rt.index, now: now)
        var outcome = rt.route.job.measuredRun(input, measureCPU: measureCPU, startedAt: now)
        board.exitTask(token)
        outcome.heldNanos = outcome.wallNanos
        taskStats.recordHeld(route: rt.index, nanos: outcome.wallNanos)
        return outcome
    }

    /// Runs one async stage of a route's pipeline (prepare or respond) in the task that prefers
    /// `counter`, measuring it: a stage that held its thread throughout is registered on the
    /// activity board while it runs and charged to the route on the cooperative pool.
    func measureAsyncStage<T>(_ rt: RouteRuntime, counter: SuspensionCounter, measureCPU: Bool, into stages: inout AsyncStages,
                              _ body: () async throws -> T) async throws -> T {
        guard instrumented else { return try await body() }
        threads.noteCooperativeThread()
        let token = board.enterTask(route: rt.index, now: Clocks.monotonicNanos())
        defer { board.exitTask(token) }
        let meter = StageMeter(counter, measureCPU: measureCPU)
        do {
            let value = try await body()
            let reading = meter.finish()
            stages.add(reading)
            if reading.held { taskStats.recordHeld(route: rt.index, nanos: reading.wallNanos) }
            return value
        } catch {
            stages.add(meter.finish())
            throw error
        }
    }

    private static func plainRun(_ job: ComputeJob, _ input: JobInput) -> ComputeOutcome {
        ComputeOutcome(result: job.resultOf(input))
    }

    /// A request of `rt` was routed on loop `loopIndex`. On that loop. Returns whether its
    /// compute stage, if it runs on a loop or a task, should read thread CPU time.
    @inline(__always)
    func requestStarted(_ rt: RouteRuntime, loopIndex: Int) -> Bool {
        agent.requestStarted(route: rt.index, loopIndex: loopIndex)
    }

    /// A request of `rt` got its response on loop `loopIndex`.
    @inline(__always)
    func requestFinished(_ rt: RouteRuntime, loopIndex: Int, _ record: RequestRecord) {
        agent.requestFinished(route: rt.index, loopIndex: loopIndex, record)
    }

    /// Requests routed and not yet answered, on every loop.
    var requestsInFlight: Int { agent.requestsInFlight }

    // MARK: - Commands

    /// Changes a route's model for requests that start from now on.
    func setModel(method: String, path: String, model: ExecutionModel, actor: String) throws(WireError) -> ControlEvent {
        guard let rt = routes.first(where: { $0.name == path && $0.route.method == method }) else {
            throw WireError(.unknownRoute, "no route \(method) \(path); routes: \(routes.map { "\($0.route.method) \($0.name)" }.joined(separator: ", "))")
        }
        if model == .processes, let why = Self.unservedInWorkers(rt.route.job, configuration) {
            throw WireError(.badRequest, "\(method) \(path) cannot run in processes: \(why)")
        }
        let old = rt.setModel(model)
        logger.info("route model changed", metadata: ["route": "\(path)", "old": "\(old.rawValue)", "new": "\(model.rawValue)", "by": "\(actor)"])
        return agent.events.append(.route, subject: path, old: old.rawValue, new: model.rawValue, actor: actor)
    }

}

/// What a request's async stages did with their time. Nanoseconds.
struct AsyncStages: Sendable {
    /// Stages that suspended: time awaiting I/O.
    var ioNanos: UInt64 = 0
    /// Stages that never suspended: time they held a cooperative-pool thread.
    var heldNanos: UInt64 = 0
    /// Thread CPU time of the held stages; nil when any of them was not measured.
    var cpuNanos: UInt64? = 0

    mutating func add(_ r: StageMeter.Reading) {
        if r.held {
            heldNanos &+= r.wallNanos
            cpuNanos = cpuNanos.flatMap { sum in r.cpuNanos.map { sum &+ $0 } }
        } else {
            ioNanos &+= r.wallNanos
        }
    }

    /// Charges the held stages to the request as compute time that held a thread.
    func merge(into o: inout ComputeOutcome) {
        guard heldNanos > 0 else { return }
        let computeCPU: UInt64? = o.wallNanos == 0 ? 0 : o.cpuNanos
        o.cpuNanos = computeCPU.flatMap { c in cpuNanos.map { c &+ $0 } }
        o.wallNanos &+= heldNanos
        o.heldNanos &+= heldNanos
        o.asyncHeldNanos &+= heldNanos
    }
}
