import NIOCore
import NIOConcurrencyHelpers
import Synchronization
import Logging
import LoopScopeWire

/// A route as the instrumentation sees it: its name, its statistics, and where it runs now.
package struct AgentRoute: Sendable {
    package var method: String
    package var path: String
    package var stats: RouteStats
    /// The execution model new requests start with.
    package var model: @Sendable () -> ExecutionModel

    package init(method: String, path: String, stats: RouteStats, model: @escaping @Sendable () -> ExecutionModel) {
        self.method = method
        self.path = path
        self.stats = stats
        self.model = model
    }
}

/// Changes where a route runs: implemented by whatever owns the routes (LoopScope's runtime).
package protocol RouteModelControl: Sendable {
    func setModel(method: String, path: String, model: ExecutionModel, actor: String) throws(WireError) -> ControlEvent
}

/// The instrumentation's shared state: executors (event loops and the cooperative pool) with
/// their probes, watchdog and stall sites; routes' and pools' statistics; events; diagnoses;
/// the snapshot; and the commands the control socket applies. Knows nothing of HTTP.
/// Thread-safe.
package final class AgentCore: Sendable {
    package let configuration: AgentConfiguration
    package let logger: Logger
    package let events = EventLog()
    package let board: ActivityBoard
    package let loopStats: [ExecutorStats]
    /// Per event loop, what its requests recorded (the request path's only statistics); the
    /// last one is for requests handled off the loops (e.g. in tasks, by an integration).
    package let tallies: [LoopTally]
    package let taskStats: ExecutorStats
    /// Threads of the loops (executors 0..<loops) and of the cooperative pool (the last).
    package let threads: ThreadRegistry
    /// Work holding its executor this long or more is charged to its route.
    package let heldThresholdNanos: UInt64
    package let startedAt = Clocks.wallSeconds()
    /// The service's address, shown in the header (e.g. the HTTP listener).
    package let address = NIOLockedValueBox("")
    /// The watched event loops' indices (`loop i`), by identity; set when the probes start.
    package let loopIndices = NIOLockedValueBox<[ObjectIdentifier: Int]>([:])
    package let watchdog = NIOLockedValueBox<Watchdog?>(nil)
    package let framesDropped = Atomic<UInt64>(0)
    private let routeTable: NIOLockedValueBox<(list: [AgentRoute], index: [String: Int])>
    /// At most this many routes are told apart; later ones share `otherRoutes`.
    package static let maxRoutes = 512
    package static let otherRoutes = "(other routes)"
    private let poolList = NIOLockedValueBox<[any WorkerPool]>([])
    /// Named sections of application code the operator places (inline or on threads).
    package let offloads = OffloadPoints()
    private let offloadPoolBox = NIOLockedValueBox<ThreadPool?>(nil)
    private let routeControl = NIOLockedValueBox<(any RouteModelControl)?>(nil)
    private let connectionFigures = NIOLockedValueBox<(@Sendable () -> ConnectionFigures)?>(nil)
    private let sequence = Atomic<UInt64>(0)
    private let selfCostNanos = Atomic<UInt64>(0)
    private let selfCostSamples = Atomic<UInt64>(0)
    private let lastSnapshotMicros = NIOLockedValueBox<Double>(0)
    /// Slow requests logged in the current second (the rate limit).
    private let slowBudget = NIOLockedValueBox<(second: UInt64, used: Int)>((0, 0))

    package var instrumented: Bool { configuration.instrumented }

    package init(configuration: AgentConfiguration, loopCount: Int, routes: [AgentRoute], logger: Logger) throws(RuntimeError) {
        try configuration.validate()
        self.configuration = configuration
        self.logger = logger
        routeTable = NIOLockedValueBox((routes, Dictionary(routes.enumerated().map { ("\($0.element.method) \($0.element.path)", $0.offset) }, uniquingKeysWith: { a, _ in a })))
        let held = UInt64(configuration.heldThreshold.nanoseconds)
        heldThresholdNanos = held
        board = ActivityBoard(loopCount: loopCount)
        let stall = UInt64(configuration.stallThreshold.nanoseconds)
        loopStats = (0..<loopCount).map { ExecutorStats(name: "loop \($0)", routeCount: routes.count, stallThresholdNanos: stall, heldThresholdNanos: held) }
        tallies = (0...loopCount).map { _ in LoopTally(routeCount: routes.count, heldThresholdNanos: held, fixedSlowNanos: configuration.slowRequestThresholdNanos) }
        taskStats = ExecutorStats(name: "tasks", routeCount: routes.count, stallThresholdNanos: stall, heldThresholdNanos: held)
        threads = ThreadRegistry(executors: loopCount + 1, tasksIndex: loopCount)
    }

    /// Pools reported and resizable from the control socket, in order.
    package var pools: [any WorkerPool] { poolList.withLockedValue { $0 } }

    package func register(pools: [any WorkerPool]) { poolList.withLockedValue { $0 += pools } }

    /// Who applies route model changes (`route` and `fix` of a reroute).
    package func setRouteControl(_ control: any RouteModelControl) { routeControl.withLockedValue { $0 = control } }

    /// Where the snapshot reads the HTTP listener's connections (set by LoopScope's runtime).
    package func setConnectionFigures(_ source: @escaping @Sendable () -> ConnectionFigures) { connectionFigures.withLockedValue { $0 = source } }

    package func pool(named name: String) -> (any WorkerPool)? { pools.first { $0.name == name } }

    /// The thread pool offload points placed on `threads` run on.
    package var offloadPool: ThreadPool? { offloadPoolBox.withLockedValue { $0 } }
    package func setOffloadPool(_ pool: ThreadPool?) { offloadPoolBox.withLockedValue { $0 = pool } }
    /// The process pool `OffloadJob`s placed on `processes` run in (nil: none).
    private let offloadProcessPoolBox = NIOLockedValueBox<ProcessPool?>(nil)
    package var offloadProcessPool: ProcessPool? { offloadProcessPoolBox.withLockedValue { $0 } }
    package func setOffloadProcessPool(_ pool: ProcessPool?) { offloadProcessPoolBox.withLockedValue { $0 = pool } }

    /// The routes, by index.
    package var routes: [AgentRoute] { routeTable.withLockedValue { $0.list } }

    package func routeName(_ index: Int) -> String {
        routeTable.withLockedValue { index < $0.list.count ? $0.list[index].path : "?" }
    }

    /// The index of route `method path`, registering it the first time (with `model` telling
    /// where its work runs). Past `maxRoutes` routes, new ones share one entry.
    package func route(method: String, path: String, model: @escaping @Sendable () -> ExecutionModel) -> Int {
        let key = "\(method) \(path)"
        return routeTable.withLockedValue { t -> Int in
            if let i = t.index[key] { return i }
            let other = "* \(Self.otherRoutes)"
            if t.list.count >= Self.maxRoutes - 1, let i = t.index[other] { return i }
            let (m, p, k) = t.list.count >= Self.maxRoutes - 1 ? ("*", Self.otherRoutes, other) : (method, path, key)
            let i = t.list.count
            // Room in every tally and executor before anyone can learn the index.
            for tally in tallies { tally.ensureRoutes(i + 1) }
            for stats in loopStats { stats.ensureRoutes(i + 1) }
            taskStats.ensureRoutes(i + 1)
            t.list.append(AgentRoute(method: m, path: p, stats: RouteStats(route: i), model: model))
            t.index[k] = i
            return i
        }
    }

    /// The tally of requests handled off the event loops.
    package var offLoopTally: Int { tallies.count - 1 }

    // MARK: - The request path

    /// A request of route `route` was routed on loop `loopIndex`. On that loop. Returns whether
    /// its work on a loop or a task should read thread CPU time.
    @inline(__always)
    package func requestStarted(route: Int, loopIndex: Int) -> Bool {
        tallies[loopIndex].started(route: route)
    }

    /// An async request of `route` started at `now` (recorded in the off-loop tally): what to
    /// measure of it.
    @inline(__always)
    package func asyncRequestStarted(route: Int, now: UInt64) -> LoopTally.AsyncPlan {
        tallies[offLoopTally].startedAsync(route: route, now: now)
    }

    /// A request got its response on loop `loopIndex`: records it (only counts it when
    /// uninstrumented) and, for about one request in 64, measures what recording cost.
    @inline(__always)
    package func requestFinished(route: Int, loopIndex: Int, _ record: RequestRecord) {
        let tally = tallies[loopIndex]
        guard instrumented else {
            tally.finished(route: route, status: record.status, record: nil)
            return
        }
        let notable: Bool
        if Sampling.oneIn(powerOfTwo: 6, seed: record.latencyNanos) {
            let t0 = Clocks.monotonicNanos()
            notable = tally.finished(route: route, status: record.status, record: record)
            selfCostNanos.add(Clocks.monotonicNanos() &- t0, ordering: .relaxed)
            selfCostSamples.add(1, ordering: .relaxed)
        } else {
            notable = tally.finished(route: route, status: record.status, record: record)
        }
        if notable { keepNotable(route: route, record) }
    }

    /// A 5xx or a slow request (rare): its error message and, within the rate limit, it as a
    /// slow request of its route.
    private func keepNotable(route: Int, _ record: RequestRecord) {
        guard let stats = routeTable.withLockedValue({ route < $0.list.count ? $0.list[route].stats : nil }) else { return }
        let threshold = stats.slowThreshold(fixedSlowNanos: configuration.slowRequestThresholdNanos)
        let now = Clocks.monotonicNanos()
        let logSlow = record.latencyNanos > threshold && slowBudget.withLockedValue { b in
            let second = now / 1_000_000_000
            if b.second != second { b = (second, 0) }
            guard b.used < configuration.slowRequestsPerSecond else { return false }
            b.used += 1
            return true
        }
        stats.recordNotable(record, now: Clocks.wallSeconds(), slowThresholdNanos: threshold, logSlow: logSlow)
    }

    /// Requests of every route between being routed and getting their response, on every loop.
    package var requestsInFlight: Int { tallies.reduce(0) { $0 + $1.inFlight } }

    // MARK: - Statistics

    /// Closes the current second everywhere. Called once a second from the control thread.
    package func rollover() {
        for r in routes { r.stats.rollover(from: tallies, fixedSlowNanos: configuration.slowRequestThresholdNanos) }
        for l in loopStats { l.rollover() }
        taskStats.rollover()
        for p in pools { p.rollover() }
    }

    /// Builds a snapshot of every figure, with diagnoses.
    package func snapshot() -> Snapshot {
        let t0 = Clocks.monotonicNanos()
        let dog = watchdog.withLockedValue { $0 }
        let routes = self.routes
        let name: @Sendable (Int) -> String = { i in i < routes.count ? routes[i].path : "?" }
        let second = Int(t0 / 1_000_000_000)
        let loops = loopStats.enumerated().map { i, s in s.figures(routeName: name, stall: dog?.stall(i), second: second) }
        let tasks = taskStats.figures(routeName: name, stall: dog?.stall(loopStats.count), second: second)
        var counters = Array(repeating: LoopTally.Counters.zero, count: routes.count)
        for tally in tallies {
            for (i, c) in tally.counters().enumerated() where i < counters.count { counters[i] += c }
        }
        let routeFigures = routes.enumerated().map { i, r in r.stats.figures(method: r.method, path: r.path, model: r.model(), counters: counters[i]) }
        let (recent, dropped) = events.recent(50)
        let costSamples = selfCostSamples.load(ordering: .relaxed)
        let sampling = dog?.samplingCost ?? (samples: 0, unanswered: 0, handlerNanos: 0)
        let pools = self.pools
        let footprint = routes.reduce(0) { $0 + $1.stats.footprintBytes } + loopStats.reduce(0) { $0 + $1.footprintBytes }
            + tallies.reduce(0) { $0 + $1.footprintBytes }
            + taskStats.footprintBytes + pools.reduce(0) { $0 + $1.statisticsFootprintBytes }
        var snapshot = Snapshot(
            sequence: sequence.add(1, ordering: .relaxed).newValue,
            time: Clocks.wallSeconds(),
            server: ServerInfo(name: configuration.name, pid: getpidValue(), startedAt: startedAt, uptimeSeconds: Clocks.wallSeconds() - startedAt,
                               address: address.withLockedValue { $0 }, instrumented: instrumented, cores: System.coreCount,
                               member: configuration.member),
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
            ),
            connections: connectionFigures.withLockedValue { $0 }?()
        )
        snapshot.diagnoses = DiagnosisRules.diagnose(snapshot)
        lastSnapshotMicros.withLockedValue { $0 = Double(Clocks.monotonicNanos() &- t0) / 1000 }
        return snapshot
    }

    // MARK: - Commands

    /// Changes a route's model for requests that start from now on (through the routes' owner).
    package func setModel(method: String, path: String, model: ExecutionModel, actor: String) throws(WireError) -> ControlEvent {
        if method == OffloadPoints.method, let point = offloads.existing(path) {
            let placements = point.placements(processPool: offloadProcessPool != nil)
            guard placements.contains(model) else {
                let why = model == .processes ? (point.runsInProcesses ? " (the agent has no process pool: AgentConfiguration.offloadProcesses)" : " (only an OffloadJob, Codable, can run in a worker process)") : ""
                throw WireError(.badRequest, "offload point \(path) runs \(placements.map(\.rawValue).joined(separator: ", ")), not \(model.rawValue)\(why)")
            }
            let old = point.setModel(model)
            logger.info("offload point moved", metadata: ["point": "\(path)", "old": "\(old.rawValue)", "new": "\(model.rawValue)", "by": "\(actor)"])
            return events.append(.route, subject: path, old: old.rawValue, new: model.rawValue, actor: actor)
        }
        guard let control = routeControl.withLockedValue({ $0 }) else {
            throw WireError(.unknownRoute, "no route \(method) \(path): this server's routes do not switch execution models")
        }
        return try control.setModel(method: method, path: path, model: model, actor: actor)
    }

    package func resize(pool name: String, size: Int, actor: String) throws(WireError) -> ControlEvent {
        guard let pool = pool(named: name) else { throw unknownPool(name) }
        guard Limit.poolSize.contains(size) else { throw WireError(.outOfRange, Limit.poolSize.refusal("size", size)) }
        let old = pool.figures().size
        pool.resize(to: size)
        logger.info("pool resized", metadata: ["pool": "\(name)", "old": "\(old)", "new": "\(size)", "by": "\(actor)"])
        return events.append(.resize, subject: name, old: "\(old)", new: "\(size)", actor: actor)
    }

    package func setLimit(pool name: String, limit: Int, actor: String) throws(WireError) -> ControlEvent {
        guard let pool = pool(named: name) else { throw unknownPool(name) }
        guard Limit.queueLimit.contains(limit) else { throw WireError(.outOfRange, Limit.queueLimit.refusal("limit", limit)) }
        let old = pool.figures().queueLimit
        pool.setQueueLimit(limit)
        return events.append(.limit, subject: name, old: "\(old)", new: "\(limit)", actor: actor)
    }

    /// Sets how long an executor must be busy before the watchdog looks at its threads.
    package func setStallThreshold(millis: Int, actor: String) throws(WireError) -> ControlEvent {
        guard let dog = watchdog.withLockedValue({ $0 }) else {
            throw WireError(.badRequest, "this server runs uninstrumented: there is no watchdog")
        }
        let old = dog.sampleThresholdNanos.exchange(UInt64(millis) * 1_000_000, ordering: .relaxed)
        return events.append(.stallThreshold, subject: "watchdog", old: "\(old / 1_000_000) ms", new: "\(millis) ms", actor: actor)
    }

    /// Applies the action of a current diagnosis.
    package func fix(diagnosis id: String, actor: String) throws(WireError) -> ControlEvent {
        let current = snapshot().diagnoses
        guard let d = current.first(where: { $0.id == id }) else {
            throw WireError(.unknownDiagnosis, current.isEmpty ? "no diagnosis '\(id)'; there are none now" : "no diagnosis '\(id)'; current: \(current.map(\.id).joined(separator: ", "))")
        }
        guard let action = d.action else { throw WireError(.badRequest, "diagnosis '\(id)' has no action the runtime can apply") }
        return try apply(action, actor: actor)
    }

    package func apply(_ action: Action, actor: String) throws(WireError) -> ControlEvent {
        switch action {
        case .reroute(let route, let model):
            let method = self.routes.first { $0.path == route }?.method ?? "GET"
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
