/// Every figure the runtime exports, at one instant. Defined once, here; every client reads this.
///
/// Times are microseconds unless the name says otherwise. Histories hold one entry per second,
/// oldest first, at most 60 entries.
public struct Snapshot: Codable, Sendable, Equatable {
    /// The snapshot schema version; bumped only on incompatible change.
    public var schema: Int
    /// Increases by one for every snapshot the server builds.
    public var sequence: UInt64
    /// Wall-clock time the snapshot was taken, seconds since the Unix epoch.
    public var time: Double
    public var server: ServerInfo
    /// One entry per HTTP event loop, by index.
    public var loops: [LoopFigures]
    /// The cooperative pool's lag, measured like a loop's.
    public var tasks: LoopFigures
    public var pools: [PoolFigures]
    public var routes: [RouteFigures]
    /// The most recent control events, oldest first.
    public var events: [ControlEvent]
    /// Events that fell out of the bounded log.
    public var eventsDropped: UInt64
    /// Current diagnoses, worst first.
    public var diagnoses: [Diagnosis]
    public var selfCost: SelfCost
    /// The HTTP listener's connections. Added later in version 1: absent from older servers'
    /// snapshots and from servers whose HTTP side is not LoopScope's (an embedded agent).
    public var connections: ConnectionFigures?

    public init(
        schema: Int = Snapshot.currentSchema, sequence: UInt64 = 0, time: Double = 0, server: ServerInfo,
        loops: [LoopFigures] = [], tasks: LoopFigures = LoopFigures(name: "tasks"), pools: [PoolFigures] = [],
        routes: [RouteFigures] = [], events: [ControlEvent] = [], eventsDropped: UInt64 = 0,
        diagnoses: [Diagnosis] = [], selfCost: SelfCost = SelfCost(), connections: ConnectionFigures? = nil
    ) {
        self.schema = schema
        self.sequence = sequence
        self.time = time
        self.server = server
        self.loops = loops
        self.tasks = tasks
        self.pools = pools
        self.routes = routes
        self.events = events
        self.eventsDropped = eventsDropped
        self.diagnoses = diagnoses
        self.selfCost = selfCost
        self.connections = connections
    }

    /// The schema this build writes.
    public static let currentSchema = 1

    /// Requests per second over the last second, summed over routes.
    public var totalRate: Double { routes.reduce(0) { $0 + $1.rate1s } }

    /// The route with this template (and method, when given).
    public func route(_ path: String, method: String? = nil) -> RouteFigures? {
        routes.first { $0.path == path && (method == nil || $0.method == method) }
    }

    /// The route a request for `requestPath` (its query ignored) is counted under: the route
    /// with that exact path, else the first whose template matches it segment by segment
    /// (`{id}`, `:id` and `*` match one segment, `**` the rest), as Hummingbird's router
    /// templates read.
    public func route(serving requestTarget: String, method: String = "GET") -> RouteFigures? {
        let requestPath = requestTarget.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? requestTarget
        let candidates = routes.filter { $0.method == method }
        if let exact = candidates.first(where: { $0.path == requestPath }) { return exact }
        let segments = requestPath.split(separator: "/", omittingEmptySubsequences: true)
        return candidates.first { Self.template($0.path, matches: segments) }
    }

    static func template(_ template: String, matches segments: [Substring]) -> Bool {
        let parts = template.split(separator: "/", omittingEmptySubsequences: true)
        var i = 0
        for part in parts {
            if part == "**" { return true }
            guard i < segments.count else { return false }
            let wildcard = part == "*" || part.hasPrefix(":") || (part.hasPrefix("{") && part.hasSuffix("}"))
            guard wildcard || part == segments[i] else { return false }
            i += 1
        }
        return i == segments.count
    }

    /// The pool with this name.
    public func pool(_ name: String) -> PoolFigures? { pools.first { $0.name == name } }

    /// The pool that runs `model`'s compute stages: the first of the model's kind (a server
    /// registers its own pools before any of the application's); nil for `loop` and `task`.
    public func pool(for model: ExecutionModel) -> PoolFigures? {
        model.pool.flatMap { kind in pools.first { $0.kind == kind } }
    }

    /// Where `route`'s work stalled an executor, with the executor's name: most stalled time
    /// over the last 60 s first (then since start).
    public func stallSites(of route: String) -> [(executor: String, site: StallSite)] {
        (loops + [tasks]).flatMap { e in e.stallSites.filter { $0.route == route }.map { (executor: e.name, site: $0) } }
            .sorted { ($0.site.last60s.micros, $0.site.total.micros) > ($1.site.last60s.micros, $1.site.total.micros) }
    }
}

/// Who the server is.
public struct ServerInfo: Codable, Sendable, Equatable {
    public var name: String
    public var pid: Int32
    /// Seconds since the Unix epoch when the server started.
    public var startedAt: Double
    public var uptimeSeconds: Double
    /// HTTP listening address, `host:port`.
    public var address: String
    /// Whether the request-path instrumentation is on.
    public var instrumented: Bool
    /// Cores the process may use.
    public var cores: Int
    /// Set when the server is one worker of a group (`serve --workers N`).
    public var member: GroupMember?

    public init(name: String, pid: Int32, startedAt: Double, uptimeSeconds: Double, address: String, instrumented: Bool = true, cores: Int = 1, member: GroupMember? = nil) {
        self.member = member
        self.name = name
        self.pid = pid
        self.startedAt = startedAt
        self.uptimeSeconds = uptimeSeconds
        self.address = address
        self.instrumented = instrumented
        self.cores = cores
    }
}

/// The HTTP listener's connections: how many are open, and how many it closed or refused to
/// keep a slow or idle client from holding it. Counters are since start.
public struct ConnectionFigures: Codable, Sendable, Equatable {
    /// Connections open now (refused ones are not counted).
    public var open: UInt64
    /// The most connections served at once; more are answered 503 and closed.
    public var limit: UInt64
    /// Connections accepted, refused ones included.
    public var accepted: UInt64
    /// Closed because a request head was not complete within the header-read timeout.
    public var closedHeaderTimeout: UInt64
    /// Closed because no request began within the idle keep-alive timeout after a response.
    public var closedIdle: UInt64
    /// Closed because a request's body stopped arriving: no byte of it within the body-read
    /// timeout of the previous one.
    public var closedBodyTimeout: UInt64
    /// Answered 503 and closed because `limit` connections were open.
    public var refusedOverLimit: UInt64
    /// Requests answered 413 because their body was over the limit (declared in the head or
    /// found while reading it); their connection is closed.
    public var bodyTooLarge: UInt64

    public init(open: UInt64 = 0, limit: UInt64 = 0, accepted: UInt64 = 0, closedHeaderTimeout: UInt64 = 0, closedIdle: UInt64 = 0,
                refusedOverLimit: UInt64 = 0, bodyTooLarge: UInt64 = 0, closedBodyTimeout: UInt64 = 0) {
        self.open = open
        self.limit = limit
        self.accepted = accepted
        self.closedHeaderTimeout = closedHeaderTimeout
        self.closedIdle = closedIdle
        self.closedBodyTimeout = closedBodyTimeout
        self.refusedOverLimit = refusedOverLimit
        self.bodyTooLarge = bodyTooLarge
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        open = try c.decode(UInt64.self, forKey: .open)
        limit = try c.decode(UInt64.self, forKey: .limit)
        accepted = try c.decode(UInt64.self, forKey: .accepted)
        closedHeaderTimeout = try c.decode(UInt64.self, forKey: .closedHeaderTimeout)
        closedIdle = try c.decode(UInt64.self, forKey: .closedIdle)
        // Added later in version 1: absent from older servers' snapshots.
        closedBodyTimeout = try c.decodeIfPresent(UInt64.self, forKey: .closedBodyTimeout) ?? 0
        refusedOverLimit = try c.decode(UInt64.self, forKey: .refusedOverLimit)
        bodyTooLarge = try c.decode(UInt64.self, forKey: .bodyTooLarge)
    }

    /// Connections the server closed, by why: every reason, in the order reports list them.
    public var closed: [(reason: ConnectionCloseReason, count: UInt64)] {
        ConnectionCloseReason.allCases.map { ($0, self[keyPath: $0.figure]) }
    }
}

/// Why the server closed an HTTP connection itself. The raw value is the Prometheus label.
public enum ConnectionCloseReason: String, Sendable, CaseIterable {
    case headerTimeout = "header_timeout"
    case idleTimeout = "idle_timeout"
    case bodyTimeout = "body_timeout"
    case overLimit = "over_limit"
    case bodyTooLarge = "body_too_large"

    /// The counter in `ConnectionFigures`.
    public var figure: KeyPath<ConnectionFigures, UInt64> & Sendable {
        switch self {
        case .headerTimeout: return \.closedHeaderTimeout
        case .idleTimeout: return \.closedIdle
        case .bodyTimeout: return \.closedBodyTimeout
        case .overLimit: return \.refusedOverLimit
        case .bodyTooLarge: return \.bodyTooLarge
        }
    }

    /// For people (`dump --format table`, the dashboard).
    public var label: String {
        switch self {
        case .headerTimeout: return "header timeout"
        case .idleTimeout: return "idle"
        case .bodyTimeout: return "body timeout"
        case .overLimit: return "over limit"
        case .bodyTooLarge: return "413"
        }
    }
}

/// Lag of one event loop (or of the cooperative pool): how late a periodic timer fires.
public struct LoopFigures: Codable, Sendable, Equatable {
    /// `loop 0`, `loop 1`, … or `tasks`.
    public var name: String
    /// Lag distribution, microseconds.
    public var lag: WindowedPercentiles
    /// Timer firings whose lag exceeded the stall threshold, since start.
    public var stalls: UInt64
    /// The route whose compute stages held this executor longest over the last ten seconds.
    public var culprit: String?
    /// Time the culprit held this executor over the last ten seconds, microseconds.
    public var culpritHeldMicros: UInt64
    /// Per second, the maximum lag in microseconds; oldest first.
    public var lagHistory: [UInt64]
    /// A stall that is still in progress, seen by the watchdog.
    public var stallInProgress: StallInProgress?
    /// Where this executor's threads were when it stalled, most stalled time over the last
    /// 60 s first (then since start); at most `StallSite.kept` sites. Empty when none stalled.
    public var stallSites: [StallSite]
    /// Distinct sites seen beyond those kept, since start.
    public var stallSitesOmitted: UInt64
    /// Every lag measured since start, microseconds (for a Prometheus histogram).
    public var lagHistogram: CumulativeHistogram?
    /// Share of the last second the executor's threads ran on a CPU, 0...1 (their thread CPU
    /// clocks; for the cooperative pool, summed over its threads and divided by their number).
    /// Absent until measured, and for a second in which a pool thread exited.
    public var cpu: Double?
    /// The mean of the last ten seconds' shares.
    public var cpu10s: Double?

    public init(name: String, lag: WindowedPercentiles = .init(), stalls: UInt64 = 0, culprit: String? = nil, culpritHeldMicros: UInt64 = 0, lagHistory: [UInt64] = [], stallInProgress: StallInProgress? = nil,
                stallSites: [StallSite] = [], stallSitesOmitted: UInt64 = 0, lagHistogram: CumulativeHistogram? = nil, cpu: Double? = nil, cpu10s: Double? = nil) {
        self.name = name
        self.lag = lag
        self.stalls = stalls
        self.culprit = culprit
        self.culpritHeldMicros = culpritHeldMicros
        self.lagHistory = lagHistory
        self.stallInProgress = stallInProgress
        self.stallSites = stallSites
        self.stallSitesOmitted = stallSitesOmitted
        self.lagHistogram = lagHistogram
        self.cpu = cpu
        self.cpu10s = cpu10s
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        lag = try c.decode(WindowedPercentiles.self, forKey: .lag)
        stalls = try c.decode(UInt64.self, forKey: .stalls)
        culprit = try c.decodeIfPresent(String.self, forKey: .culprit)
        culpritHeldMicros = try c.decode(UInt64.self, forKey: .culpritHeldMicros)
        lagHistory = try c.decode([UInt64].self, forKey: .lagHistory)
        stallInProgress = try c.decodeIfPresent(StallInProgress.self, forKey: .stallInProgress)
        // Added later in version 1: absent from older servers' snapshots.
        stallSites = try c.decodeIfPresent([StallSite].self, forKey: .stallSites) ?? []
        stallSitesOmitted = try c.decodeIfPresent(UInt64.self, forKey: .stallSitesOmitted) ?? 0
        lagHistogram = try c.decodeIfPresent(CumulativeHistogram.self, forKey: .lagHistogram)
        cpu = try c.decodeIfPresent(Double.self, forKey: .cpu)
        cpu10s = try c.decodeIfPresent(Double.self, forKey: .cpu10s)
    }
}

/// Where a stalled executor's thread was: the innermost application function on its stack
/// (sampled while the stall lasted, runtime, NIO, Swift and libc frames folded), or the
/// system call a blocked thread sat in (read from /proc, the thread never signalled).
public struct StallSite: Codable, Sendable, Equatable {
    /// At most this many sites are kept per executor; the rest are counted.
    public static let kept = 12
    /// The `function` of the one site for stacks without an application frame (the executor
    /// was busy in the runtime, NIO, Swift or libc themselves).
    public static let frameworkCode = "(framework code)"

    /// Whether the site names a function of the application (not `frameworkCode`).
    public var isApplicationCode: Bool { function != Self.frameworkCode }

    /// The innermost application function, shortened (`CPUWork.spin(iterations:)`), or
    /// `blocked in nanosleep` for a blocked thread whose stack was not taken.
    public var function: String
    /// Application frames, innermost first, shortened (at most 6); empty for a blocked thread.
    public var frames: [String]
    /// Whether the thread was running (stack sampled) or blocked in a system call.
    public var state: StallState
    /// The system call a blocked thread was in (`nanosleep`, `read`, …).
    public var syscall: String?
    /// The route whose work held the executor when the site was last seen, when known.
    public var route: String?
    /// Stalled time charged to this site over the last 60 s and since start.
    public var last60s: StallTotals
    public var total: StallTotals
    /// The longest single stall seen at this site, microseconds.
    public var maxMicros: UInt64
    /// Wall-clock time the site was last seen, seconds since the Unix epoch.
    public var lastSeen: Double

    public init(function: String, frames: [String] = [], state: StallState, syscall: String? = nil, route: String? = nil,
                last60s: StallTotals = .init(), total: StallTotals = .init(), maxMicros: UInt64 = 0, lastSeen: Double = 0) {
        self.function = function
        self.frames = frames
        self.state = state
        self.syscall = syscall
        self.route = route
        self.last60s = last60s
        self.total = total
        self.maxMicros = maxMicros
        self.lastSeen = lastSeen
    }
}

/// What a stalled thread was doing when the watchdog looked.
public enum StallState: String, Codable, Sendable, CaseIterable {
    /// On CPU: its stack was sampled.
    case running
    /// Asleep in a system call (not the executor's own idle wait).
    case blocked
}

/// Stalled time charged to a site: each sample charges the time since the previous look.
public struct StallTotals: Codable, Sendable, Equatable {
    /// Stalled time, microseconds.
    public var micros: UInt64
    /// Stalls that were seen at this site (one stall sampled many times counts once).
    public var stalls: UInt64

    public init(micros: UInt64 = 0, stalls: UInt64 = 0) {
        self.micros = micros
        self.stalls = stalls
    }
}

/// A stall the watchdog sees while it is happening.
public struct StallInProgress: Codable, Sendable, Equatable {
    /// The route whose compute stage holds the executor, if one does.
    public var route: String?
    /// How long the executor has been held so far, microseconds.
    public var heldMicros: UInt64

    public init(route: String?, heldMicros: UInt64) {
        self.route = route
        self.heldMicros = heldMicros
    }
}

/// One pool of workers: threads, worker processes or resources such as connections.
public struct PoolFigures: Codable, Sendable, Equatable {
    public var name: String
    /// What its workers are: `threads`, `processes` or `connections`.
    public var kind: PoolKind
    /// Workers the pool is sized to.
    public var size: Int
    /// Workers alive now (differs from `size` while growing, shrinking or restarting).
    public var live: Int
    public var busy: Int
    /// Jobs waiting for a worker.
    public var queued: Int
    public var queueLimit: Int
    public var completed: UInt64
    /// Jobs refused because the queue was full.
    public var rejected: UInt64
    /// Jobs that failed in a worker (threw, the worker died, or it ran past the timeout).
    public var failed: UInt64
    /// Jobs that ran past the pool's job timeout (answered 504, their worker process killed
    /// and replaced, or their thread written off and replaced), since start. Absent for pools
    /// without a job timeout.
    public var timedOut: UInt64?
    /// Completions per second over the last second.
    public var completedPerSecond: Double
    /// Time from submission to a worker taking the job, microseconds.
    public var queueWait: WindowedPercentiles
    /// Time a worker spent on a job, microseconds.
    public var runTime: WindowedPercentiles
    /// Every queue wait since start, microseconds (for a Prometheus histogram).
    public var queueWaitHistogram: CumulativeHistogram?
    /// Per second, the largest queue depth seen; oldest first.
    public var queueHistory: [Int]
    /// Its workers one by one, for kinds that list them (`PoolKind.listsWorkers`); else empty.
    public var workers: [WorkerFigures]
    /// Callers asking for a worker or connection per second, over the last 10 s (served,
    /// queued, refused or timed out alike): the demand. Absent for pools that do not count it.
    public var arrivalsPerSecond: Double?
    /// For `connections` pools: the routes (templates) whose measured requests checked out a
    /// connection, since start. Other pools' routes are the ones whose model runs on them.
    public var routes: [String]?

    public init(name: String, kind: PoolKind, size: Int, live: Int, busy: Int, queued: Int, queueLimit: Int, completed: UInt64 = 0, rejected: UInt64 = 0, failed: UInt64 = 0, completedPerSecond: Double = 0, queueWait: WindowedPercentiles = .init(), runTime: WindowedPercentiles = .init(), queueHistory: [Int] = [], workers: [WorkerFigures] = []) {
        self.name = name
        self.kind = kind
        self.size = size
        self.live = live
        self.busy = busy
        self.queued = queued
        self.queueLimit = queueLimit
        self.completed = completed
        self.rejected = rejected
        self.failed = failed
        self.completedPerSecond = completedPerSecond
        self.queueWait = queueWait
        self.runTime = runTime
        self.queueHistory = queueHistory
        self.workers = workers
    }
}

/// One worker process.
public struct WorkerFigures: Codable, Sendable, Equatable {
    public var pid: Int32
    public var jobsDone: UInt64
    /// Times this worker slot was restarted after its process died.
    public var restarts: UInt64
    public var residentBytes: UInt64
    public var busy: Bool

    public init(pid: Int32, jobsDone: UInt64, restarts: UInt64, residentBytes: UInt64, busy: Bool) {
        self.pid = pid
        self.jobsDone = jobsDone
        self.restarts = restarts
        self.residentBytes = residentBytes
        self.busy = busy
    }
}

/// Figures for one route template.
public struct RouteFigures: Codable, Sendable, Equatable {
    public var method: String
    /// The route template, e.g. `/users/:id`; never a raw path.
    public var path: String
    public var model: ExecutionModel
    public var requests: UInt64
    public var inFlight: Int
    public var rate1s: Double
    public var rate10s: Double
    public var status: StatusCounts
    /// End-to-end latency, microseconds.
    public var latency: WindowedPercentiles
    /// Per second, p99 latency (µs); oldest first.
    public var p99History: [UInt64]
    /// Per second, requests completed; oldest first.
    public var rateHistory: [UInt64]
    /// Where the time of an average request went over the last ten seconds.
    public var split: LatencySplit
    /// The compute stage's wall and CPU time over the last ten seconds.
    public var compute: ComputeFigures
    public var workClass: WorkClass
    /// Compute stages that held an event loop or the cooperative pool over the threshold.
    public var held: HeldFigures
    /// Latency distribution since start, as (upper bound µs, count) buckets for a histogram view.
    public var histogram: [HistogramBucket]
    /// The sum of the latencies in `histogram`, microseconds (for Prometheus' `_sum`).
    public var latencySumMicros: UInt64?
    /// Responses 5xx per second over the last ten seconds (absent from older servers).
    public var errorsPerSecond: Double?
    /// Requests that failed because something timed out, by what, since start, most first
    /// (absent when none).
    public var timeouts: [TimeoutCount]?
    /// The latest messages of its 5xx responses, oldest first, identical ones merged, at most
    /// `RouteError.kept` (absent when none).
    public var recentErrors: [RouteError]?
    /// The latest requests over the slow-request threshold, oldest first, at most
    /// `SlowRequest.kept` (absent when none).
    public var slowRequests: [SlowRequest]?

    public init(method: String, path: String, model: ExecutionModel, requests: UInt64 = 0, inFlight: Int = 0, rate1s: Double = 0, rate10s: Double = 0, status: StatusCounts = .init(), latency: WindowedPercentiles = .init(), p99History: [UInt64] = [], rateHistory: [UInt64] = [], split: LatencySplit = .init(), compute: ComputeFigures = .init(), workClass: WorkClass = .unknown, held: HeldFigures = .init(), histogram: [HistogramBucket] = [], latencySumMicros: UInt64? = nil,
                errorsPerSecond: Double? = nil, timeouts: [TimeoutCount]? = nil, recentErrors: [RouteError]? = nil, slowRequests: [SlowRequest]? = nil) {
        self.method = method
        self.path = path
        self.model = model
        self.requests = requests
        self.inFlight = inFlight
        self.rate1s = rate1s
        self.rate10s = rate10s
        self.status = status
        self.latency = latency
        self.p99History = p99History
        self.rateHistory = rateHistory
        self.split = split
        self.compute = compute
        self.workClass = workClass
        self.held = held
        self.histogram = histogram
        self.latencySumMicros = latencySumMicros
        self.errorsPerSecond = errorsPerSecond
        self.timeouts = timeouts
        self.recentErrors = recentErrors
        self.slowRequests = slowRequests
    }

    /// Responses with status 500 and above.
    public var errors: UInt64 { status.s5xx }

    /// How many of its jobs ran past the job timeout of the pool its model runs on, since start.
    public func jobTimeouts(in s: Snapshot) -> UInt64 {
        guard let pool = s.pool(for: model) else { return 0 }
        let reason = TimeoutCount.jobTimeout(pool: pool.name)
        return (timeouts ?? []).filter { $0.reason == reason }.reduce(0) { $0 + $1.count }
    }
}

/// Responses by status class.
public struct StatusCounts: Codable, Sendable, Equatable {
    public var s2xx: UInt64
    public var s3xx: UInt64
    public var s4xx: UInt64
    public var s5xx: UInt64

    public init(s2xx: UInt64 = 0, s3xx: UInt64 = 0, s4xx: UInt64 = 0, s5xx: UInt64 = 0) {
        self.s2xx = s2xx
        self.s3xx = s3xx
        self.s4xx = s4xx
        self.s5xx = s5xx
    }
}

/// Mean time per request, microseconds, split by where it went.
public struct LatencySplit: Codable, Sendable, Equatable {
    /// The request's bytes waiting in the kernel for a busy event loop to read them (an
    /// estimate from the kernel's receive time, 4 ms resolution; see docs/PROTOCOL.md).
    public var loopWaitMicros: Double
    /// Waiting for a worker (pool queue, or a task or loop hop).
    public var queueMicros: Double
    /// Running the compute stage.
    public var computeMicros: Double
    /// Awaiting I/O stages, but for `poolWaitMicros`.
    public var ioMicros: Double
    /// Of the awaited time, waiting for a connection from a connection pool (a database's, an
    /// upstream's): the sum of the request's waits, at most its awaited time.
    public var poolWaitMicros: Double

    public init(loopWaitMicros: Double = 0, queueMicros: Double = 0, computeMicros: Double = 0, ioMicros: Double = 0, poolWaitMicros: Double = 0) {
        self.loopWaitMicros = loopWaitMicros
        self.queueMicros = queueMicros
        self.computeMicros = computeMicros
        self.ioMicros = ioMicros
        self.poolWaitMicros = poolWaitMicros
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        // Added later in version 1: absent from older servers' snapshots.
        loopWaitMicros = try c.decodeIfPresent(Double.self, forKey: .loopWaitMicros) ?? 0
        queueMicros = try c.decode(Double.self, forKey: .queueMicros)
        computeMicros = try c.decode(Double.self, forKey: .computeMicros)
        ioMicros = try c.decode(Double.self, forKey: .ioMicros)
        poolWaitMicros = try c.decodeIfPresent(Double.self, forKey: .poolWaitMicros) ?? 0
    }
}

extension LatencySplit {
    /// The parts in the order a request meets them, with the names people read.
    public var parts: [(name: String, micros: Double)] {
        [("loop wait", loopWaitMicros), ("queue", queueMicros), ("compute", computeMicros), ("pool wait", poolWaitMicros), ("I/O", ioMicros)]
    }
}

/// Wall and thread-CPU time of a route's compute stage.
public struct ComputeFigures: Codable, Sendable, Equatable {
    /// Mean wall time per stage, microseconds.
    public var wallMicros: Double
    /// Mean thread CPU time per stage, microseconds: over the stages whose CPU time was read
    /// (in pools, every stage; on a loop or a task, the first of a route on each loop and then
    /// one in 8, or one in 64 while its stages are under 50 µs, because the read is a system call).
    public var cpuMicros: Double
    /// Stages the means are over.
    public var samples: UInt64

    public init(wallMicros: Double = 0, cpuMicros: Double = 0, samples: UInt64 = 0) {
        self.wallMicros = wallMicros
        self.cpuMicros = cpuMicros
        self.samples = samples
    }
}

/// Compute stages that held an event loop or the cooperative pool longer than the threshold.
public struct HeldFigures: Codable, Sendable, Equatable {
    /// How many stages held it, since start.
    public var count: UInt64
    /// Total held time since start, microseconds.
    public var totalMicros: UInt64
    /// Mean time a request of this route holds a loop or the pool thread (over the last ten
    /// seconds), microseconds; 0 when its stages run in a pool or a worker process.
    public var perRequestMicros: Double
    /// The part of `perRequestMicros` held by async stages (`prepare`, `respond`) that never
    /// suspended: CPU work or a blocking call written inside async code, on the cooperative pool.
    public var asyncMicros: Double

    public init(count: UInt64 = 0, totalMicros: UInt64 = 0, perRequestMicros: Double = 0, asyncMicros: Double = 0) {
        self.count = count
        self.totalMicros = totalMicros
        self.perRequestMicros = perRequestMicros
        self.asyncMicros = asyncMicros
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        count = try c.decode(UInt64.self, forKey: .count)
        totalMicros = try c.decode(UInt64.self, forKey: .totalMicros)
        perRequestMicros = try c.decode(Double.self, forKey: .perRequestMicros)
        // Added later in version 1: absent from older servers' snapshots.
        asyncMicros = try c.decodeIfPresent(Double.self, forKey: .asyncMicros) ?? 0
    }
}

/// A distribution since start as histogram buckets (a 1-2-5 series of upper bounds from
/// 10 µs, up to the first bound at or above the largest value) and the sum of its values: what
/// a Prometheus histogram needs. From a 3-significant-digit HDR histogram, so bounds and the
/// sum are within 0.1 %.
public struct CumulativeHistogram: Codable, Sendable, Equatable {
    public var buckets: [HistogramBucket]
    public var sumMicros: UInt64

    public init(buckets: [HistogramBucket] = [], sumMicros: UInt64 = 0) {
        self.buckets = buckets
        self.sumMicros = sumMicros
    }

    /// Values recorded.
    public var count: UInt64 { buckets.reduce(0) { $0 + $1.count } }

    /// Values at or below `micros` (a bound of the buckets' series, or above them all).
    public func count(atOrBelow micros: UInt64) -> UInt64 {
        buckets.reduce(0) { $0 + ($1.upToMicros <= micros ? $1.count : 0) }
    }
}

/// A message a route answered with a 5xx status, and how often (identical ones merged).
public struct RouteError: Codable, Sendable, Equatable {
    /// How many distinct messages a route keeps.
    public static let kept = 8
    /// The longest message kept, in characters (longer ones are cut, ending in `…`).
    public static let maxMessage = 240

    public var status: Int
    public var message: String
    /// Responses with this status and message since it was first kept.
    public var count: UInt64
    /// Seconds since the Unix epoch.
    public var firstSeen: Double
    public var lastSeen: Double

    public init(status: Int, message: String, count: UInt64 = 1, firstSeen: Double, lastSeen: Double) {
        self.status = status
        self.message = message
        self.count = count
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
    }
}

/// How many of a route's requests failed because one thing timed out.
public struct TimeoutCount: Codable, Sendable, Equatable {
    /// How many reasons a route tells apart; the rest are counted under `other`.
    public static let kept = 8
    public static let other = "other"

    /// What timed out: `deadline` (the route's), `NAME job timeout`, `NAME connection wait`,
    /// `upstream call`, … (what the error said).
    public var reason: String
    public var count: UInt64

    /// The reason of a job that ran past pool `pool`'s job timeout.
    public static func jobTimeout(pool: String) -> String { "\(pool) job timeout" }
    /// The reason of a wait for one of pool `pool`'s connections that ran past its limit.
    public static func connectionWait(pool: String) -> String { "\(pool) connection wait" }
    /// The reason of a request that ran past its route's deadline.
    public static let deadline = "deadline"

    public init(reason: String, count: UInt64) {
        self.reason = reason
        self.count = count
    }
}

/// One request that took longer than its route's slow-request threshold, with where its time went.
public struct SlowRequest: Codable, Sendable, Equatable {
    /// How many a route keeps.
    public static let kept = 5

    /// When it ended, seconds since the Unix epoch.
    public var time: Double
    public var status: Int
    public var latencyMicros: UInt64
    /// The threshold it was over (twice the route's 10 s p99 then, at least 1 ms; or the
    /// server's fixed one).
    public var thresholdMicros: UInt64
    /// This request's own split (not a mean), microseconds.
    public var split: LatencySplit

    public init(time: Double, status: Int, latencyMicros: UInt64, thresholdMicros: UInt64, split: LatencySplit) {
        self.time = time
        self.status = status
        self.latencyMicros = latencyMicros
        self.thresholdMicros = thresholdMicros
        self.split = split
    }
}

/// One bar of a latency histogram.
public struct HistogramBucket: Codable, Sendable, Equatable {
    /// Upper bound of the bucket, microseconds.
    public var upToMicros: UInt64
    public var count: UInt64

    public init(upToMicros: UInt64, count: UInt64) {
        self.upToMicros = upToMicros
        self.count = count
    }
}

/// What a route's compute stage does with the thread it holds.
public enum WorkClass: String, Codable, Sendable {
    /// CPU time close to wall time.
    case cpu
    /// Wall time far above CPU time while holding a thread: sleeping or blocked in a syscall.
    case blocking
    /// No thread held: the time goes to awaited I/O.
    case io
    /// Not enough samples yet.
    case unknown
}

/// What the instrumentation itself costs.
public struct SelfCost: Codable, Sendable, Equatable {
    /// Mean time spent recording one request's figures, nanoseconds (timed on about one
    /// request in 64: the recording call, not the clock reads around the compute stage).
    public var nanosPerRequest: Double
    /// Memory held by the statistics, bytes.
    public var statisticsBytes: UInt64
    /// Snapshot frames dropped for slow subscribers, since start.
    public var framesDropped: UInt64
    /// Time to build the last snapshot, microseconds.
    public var snapshotMicros: Double
    /// Stack samples taken of stalled threads, since start.
    public var stallSamples: UInt64
    /// Mean time a stack sample cost the stalled thread (its signal handler), microseconds.
    public var stallSampleMicros: Double

    public init(nanosPerRequest: Double = 0, statisticsBytes: UInt64 = 0, framesDropped: UInt64 = 0, snapshotMicros: Double = 0,
                stallSamples: UInt64 = 0, stallSampleMicros: Double = 0) {
        self.nanosPerRequest = nanosPerRequest
        self.statisticsBytes = statisticsBytes
        self.framesDropped = framesDropped
        self.snapshotMicros = snapshotMicros
        self.stallSamples = stallSamples
        self.stallSampleMicros = stallSampleMicros
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        nanosPerRequest = try c.decode(Double.self, forKey: .nanosPerRequest)
        statisticsBytes = try c.decode(UInt64.self, forKey: .statisticsBytes)
        framesDropped = try c.decode(UInt64.self, forKey: .framesDropped)
        snapshotMicros = try c.decode(Double.self, forKey: .snapshotMicros)
        // Added later in version 1: absent from older servers' snapshots.
        stallSamples = try c.decodeIfPresent(UInt64.self, forKey: .stallSamples) ?? 0
        stallSampleMicros = try c.decodeIfPresent(Double.self, forKey: .stallSampleMicros) ?? 0
    }
}

extension Snapshot {
    /// The snapshot as one JSON document (its `Codable` shape), without a trailing newline.
    public func json() -> [UInt8] {
        JSONStreamEncoder.encode(self, capacity: 2048 + routes.count * 1800)
    }
}
