import NIOCore
import NIOConcurrencyHelpers
import Synchronization
import Logging
import LoopScopeWire

/// The runtime's shared state: routes, pools, probes and statistics, and the operations on
/// them that the HTTP handlers and the control socket use. Thread-safe.
final class RuntimeCore: Sendable {
    let configuration: ServerConfiguration
    let routes: [RouteRuntime]
    let router: Router
    let threadPool: ThreadPool
    let processPool: ProcessPool
    /// Pools the application registered (e.g. database connections): reported and resizable.
    let extraPools: [any WorkerPool]
    let events = EventLog()
    let board: ActivityBoard
    let loopStats: [ExecutorStats]
    /// Per event loop, what its requests recorded (the request path's only statistics).
    let tallies: [LoopTally]
    let taskStats: ExecutorStats
    /// Compute stages holding their executor this long or more are charged to their route.
    let heldThresholdNanos: UInt64
    let logger: Logger
    let startedAt = Clocks.wallSeconds()
    let address = NIOLockedValueBox("")
    private let sequence = Atomic<UInt64>(0)
    private let selfCostNanos = Atomic<UInt64>(0)
    private let selfCostSamples = Atomic<UInt64>(0)
    let framesDropped = Atomic<UInt64>(0)
    private let lastSnapshotMicros = NIOLockedValueBox<Double>(0)
    let watchdog = NIOLockedValueBox<Watchdog?>(nil)
    /// Threads of the loops (executors 0..<loops) and of the cooperative pool (the last).
    let threads: ThreadRegistry

    var instrumented: Bool { configuration.instrumented }

    init(configuration: ServerConfiguration, routes: [Route], extraPools: [any WorkerPool], logger: Logger) throws(RuntimeError) {
        try configuration.validate()
        self.configuration = configuration
        self.logger = logger
        let held = UInt64(configuration.heldThreshold.nanoseconds)
        self.heldThresholdNanos = held
        self.routes = routes.enumerated().map { RouteRuntime(index: $0.offset, route: $0.element) }
        self.router = try Router(routes.map { ($0.method, $0.template) })
        self.threadPool = ThreadPool(size: configuration.threadPoolSize, queueLimit: configuration.threadQueueLimit, polling: configuration.poolPolling)
        self.processPool = ProcessPool(size: configuration.processPoolSize, queueLimit: configuration.processQueueLimit,
                                       command: configuration.workerCommand ?? .currentExecutable, events: events, polling: configuration.poolPolling)
        self.extraPools = extraPools
        self.board = ActivityBoard(loopCount: configuration.eventLoops)
        let stall = UInt64(configuration.stallThreshold.nanoseconds)
        self.loopStats = (0..<configuration.eventLoops).map { ExecutorStats(name: "loop \($0)", routeCount: routes.count, stallThresholdNanos: stall) }
        self.tallies = (0..<configuration.eventLoops).map { _ in LoopTally(routeCount: routes.count, heldThresholdNanos: held) }
        self.taskStats = ExecutorStats(name: "tasks", routeCount: routes.count, stallThresholdNanos: stall)
        self.threads = ThreadRegistry(executors: configuration.eventLoops + 1, tasksIndex: configuration.eventLoops)
    }

    var pools: [any WorkerPool] { [threadPool, processPool] + extraPools }

    func pool(named name: String) -> (any WorkerPool)? { pools.first { $0.name == name } }

    func routeName(_ index: Int) -> String { index < routes.count ? routes[index].name : "?" }

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
            Task { [self] in
                let started = Clocks.monotonicNanos()
                var outcome = runOnTask(rt, input: input, measureCPU: measureCPU)
                outcome.queueNanos = started &- enqueued
                completion(outcome)
            }
        case .threads:
            threadPool.run(rt.route.job, input: input, completion: completion)
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
        if outcome.wallNanos >= heldThresholdNanos {
            loopStats[loopIndex].recordHeld(route: rt.index, nanos: outcome.wallNanos)
        }
        loopStats[loopIndex].noteBusy(nanos: outcome.wallNanos, now: now &+ outcome.wallNanos)
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
        if outcome.wallNanos >= heldThresholdNanos {
            taskStats.recordHeld(route: rt.index, nanos: outcome.wallNanos)
        }
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
            if reading.held, reading.wallNanos >= heldThresholdNanos { taskStats.recordHeld(route: rt.index, nanos: reading.wallNanos) }
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
        tallies[loopIndex].started(route: rt.index)
    }

    /// A request of `rt` got its response on loop `loopIndex`: records it (only counts it when
    /// uninstrumented) and, for about one request in 64, measures what recording cost.
    @inline(__always)
    func requestFinished(_ rt: RouteRuntime, loopIndex: Int, _ record: RequestRecord) {
        let tally = tallies[loopIndex]
        guard instrumented else {
            tally.finished(route: rt.index, status: record.status, record: nil)
            return
        }
        if Sampling.oneIn(powerOfTwo: 6, seed: record.latencyNanos) {
            let t0 = Clocks.monotonicNanos()
            tally.finished(route: rt.index, status: record.status, record: record)
            selfCostNanos.add(Clocks.monotonicNanos() &- t0, ordering: .relaxed)
            selfCostSamples.add(1, ordering: .relaxed)
        } else {
            tally.finished(route: rt.index, status: record.status, record: record)
        }
    }

    /// Requests routed and not yet answered, on every loop.
    var requestsInFlight: Int { tallies.reduce(0) { $0 + $1.inFlight } }

    // MARK: - Statistics

    /// Closes the current second everywhere. Called once a second from the control thread.
    func rollover() {
        for r in routes { r.stats.rollover(from: tallies) }
        for l in loopStats { l.rollover() }
        taskStats.rollover()
        for p in pools { p.rollover() }
    }

    /// Builds a snapshot of every figure, with diagnoses.
    func snapshot() -> Snapshot {
        let t0 = Clocks.monotonicNanos()
        let dog = watchdog.withLockedValue { $0 }
        let name: @Sendable (Int) -> String = { [routes] i in i < routes.count ? routes[i].name : "?" }
        let second = Int(t0 / 1_000_000_000)
        let loops = loopStats.enumerated().map { i, s in s.figures(routeName: name, stall: dog?.stall(i), second: second) }
        let tasks = taskStats.figures(routeName: name, stall: dog?.stall(loopStats.count), second: second)
        var counters = Array(repeating: LoopTally.Counters.zero, count: routes.count)
        for tally in tallies {
            for (i, c) in tally.counters().enumerated() { counters[i] += c }
        }
        let routeFigures = routes.map { $0.stats.figures(method: $0.route.method, path: $0.name, model: $0.model, counters: counters[$0.index]) }
        let (recent, dropped) = events.recent(50)
        let costSamples = selfCostSamples.load(ordering: .relaxed)
        let sampling = dog?.samplingCost ?? (samples: 0, unanswered: 0, handlerNanos: 0)
        let footprint = routes.reduce(0) { $0 + $1.stats.footprintBytes } + loopStats.reduce(0) { $0 + $1.footprintBytes }
            + tallies.reduce(0) { $0 + $1.footprintBytes }
            + taskStats.footprintBytes + pools.count * threadPool.stats.footprintBytes
        var snapshot = Snapshot(
            sequence: sequence.add(1, ordering: .relaxed).newValue,
            time: Clocks.wallSeconds(),
            server: ServerInfo(name: configuration.name, pid: getpidValue(), startedAt: startedAt, uptimeSeconds: Clocks.wallSeconds() - startedAt,
                               address: address.withLockedValue { $0 }, instrumented: instrumented, cores: System.coreCount),
            loops: loops, tasks: tasks,
            pools: pools.map { $0.figures() },
            routes: routeFigures,
            events: recent, eventsDropped: dropped,
            selfCost: SelfCost(
                nanosPerRequest: costSamples > 0 ? Double(selfCostNanos.load(ordering: .relaxed)) / Double(costSamples) : 0,
                statisticsBytes: UInt64(footprint),
                framesDropped: framesDropped.load(ordering: .relaxed),
                snapshotMicros: lastSnapshotMicros.withLockedValue { $0 },
                stallSamples: sampling.samples, stallSampleMicros: sampling.handlerNanos / 1000
            )
        )
        snapshot.diagnoses = DiagnosisRules.diagnose(snapshot)
        lastSnapshotMicros.withLockedValue { $0 = Double(Clocks.monotonicNanos() &- t0) / 1000 }
        return snapshot
    }

    // MARK: - Commands

    /// Changes a route's model for requests that start from now on.
    func setModel(method: String, path: String, model: ExecutionModel, actor: String) throws(WireError) -> ControlEvent {
        guard let rt = routes.first(where: { $0.name == path && $0.route.method == method }) else {
            throw WireError(.unknownRoute, "no route \(method) \(path); routes: \(routes.map { "\($0.route.method) \($0.name)" }.joined(separator: ", "))")
        }
        let old = rt.setModel(model)
        logger.info("route model changed", metadata: ["route": "\(path)", "old": "\(old.rawValue)", "new": "\(model.rawValue)", "by": "\(actor)"])
        return events.append(.route, subject: path, old: old.rawValue, new: model.rawValue, actor: actor)
    }

    func resize(pool name: String, size: Int, actor: String) throws(WireError) -> ControlEvent {
        guard let pool = pool(named: name) else { throw unknownPool(name) }
        guard Command.poolSizeRange.contains(size) else {
            throw WireError(.outOfRange, "size must be between \(Command.poolSizeRange.lowerBound) and \(Command.poolSizeRange.upperBound), got \(size)")
        }
        let old = pool.figures().size
        pool.resize(to: size)
        logger.info("pool resized", metadata: ["pool": "\(name)", "old": "\(old)", "new": "\(size)", "by": "\(actor)"])
        return events.append(.resize, subject: name, old: "\(old)", new: "\(size)", actor: actor)
    }

    func setLimit(pool name: String, limit: Int, actor: String) throws(WireError) -> ControlEvent {
        guard let pool = pool(named: name) else { throw unknownPool(name) }
        guard Command.queueLimitRange.contains(limit) else {
            throw WireError(.outOfRange, "limit must be between \(Command.queueLimitRange.lowerBound) and \(Command.queueLimitRange.upperBound), got \(limit)")
        }
        let old = pool.figures().queueLimit
        pool.setQueueLimit(limit)
        return events.append(.limit, subject: name, old: "\(old)", new: "\(limit)", actor: actor)
    }

    /// Sets how long an executor must be busy before the watchdog looks at its threads.
    func setStallThreshold(millis: Int, actor: String) throws(WireError) -> ControlEvent {
        guard let dog = watchdog.withLockedValue({ $0 }) else {
            throw WireError(.badRequest, "this server runs uninstrumented: there is no watchdog")
        }
        let old = dog.sampleThresholdNanos.exchange(UInt64(millis) * 1_000_000, ordering: .relaxed)
        return events.append(.stallThreshold, subject: "watchdog", old: "\(old / 1_000_000) ms", new: "\(millis) ms", actor: actor)
    }

    /// Applies the action of a current diagnosis.
    func fix(diagnosis id: String, actor: String) throws(WireError) -> ControlEvent {
        let current = snapshot().diagnoses
        guard let d = current.first(where: { $0.id == id }) else {
            throw WireError(.unknownDiagnosis, current.isEmpty ? "no diagnosis '\(id)'; there are none now" : "no diagnosis '\(id)'; current: \(current.map(\.id).joined(separator: ", "))")
        }
        guard let action = d.action else { throw WireError(.badRequest, "diagnosis '\(id)' has no action the runtime can apply") }
        return try apply(action, actor: actor)
    }

    func apply(_ action: Action, actor: String) throws(WireError) -> ControlEvent {
        switch action {
        case .reroute(let route, let model):
            let method = routes.first { $0.name == route }?.route.method ?? "GET"
            return try setModel(method: method, path: route, model: model, actor: actor)
        case .resize(let pool, let size): return try resize(pool: pool, size: size, actor: actor)
        case .limit(let pool, let limit): return try setLimit(pool: pool, limit: limit, actor: actor)
        }
    }

    private func unknownPool(_ name: String) -> WireError {
        WireError(.unknownPool, "no pool '\(name)'; pools: \(pools.map(\.name).joined(separator: ", "))")
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@inline(__always) func getpidValue() -> Int32 { getpid() }

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
