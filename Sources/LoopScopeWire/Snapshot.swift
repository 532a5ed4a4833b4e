/// Every figure the runtime exports, at one instant. Defined once, here; every client reads this.
///
/// Times are microseconds unless the name says otherwise. Histories hold one entry per second,
/// oldest first, at most 60 entries.
public struct Snapshot: Codable, Sendable, Equatable, PublicMemberwiseInit {
    /// The snapshot schema version; bumped only on incompatible change.
    public var schema: Int = Snapshot.currentSchema
    /// Increases by one for every snapshot the server builds.
    public var sequence: UInt64 = 0
    /// Wall-clock time the snapshot was taken, seconds since the Unix epoch.
    public var time: Double = 0
    public var server: ServerInfo
    /// One entry per HTTP event loop, by index.
    public var loops: [LoopFigures] = []
    /// The cooperative pool's lag, measured like a loop's.
    public var tasks: LoopFigures = LoopFigures(name: "tasks")
    public var pools: [PoolFigures] = []
    public var routes: [RouteFigures] = []
    /// The most recent control events, oldest first.
    public var events: [ControlEvent] = []
    /// Events that fell out of the bounded log.
    public var eventsDropped: UInt64 = 0
    /// Current diagnoses, worst first.
    public var diagnoses: [Diagnosis] = []
    public var selfCost: SelfCost = SelfCost()
    /// The HTTP listener's connections. Added later in version 1: absent from older servers'
    /// snapshots and from servers whose HTTP side is not LoopScope's (an embedded agent).
    public var connections: ConnectionFigures?

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

    private init(_ generated: Never) { switch generated {} }
}

/// Who the server is.
public struct ServerInfo: Codable, Sendable, Equatable, PublicMemberwiseInit {
    public var name: String
    public var pid: Int32
    /// Seconds since the Unix epoch when the server started.
    public var startedAt: Double
    public var uptimeSeconds: Double
    /// HTTP listening address, `host:port`.
    public var address: String
    /// Whether the request-path instrumentation is on.
    public var instrumented: Bool = true
    /// Cores the process may use.
    public var cores: Int = 1
    /// Set when the server is one worker of a group (`serve --workers N`).
    public var member: GroupMember?

    private init(_ generated: Never) { switch generated {} }
}

/// The HTTP listener's connections: how many are open, and how many it closed or refused to
/// keep a slow or idle client from holding it. Counters are since start.
public struct ConnectionFigures: Codable, Sendable, Equatable, PublicMemberwiseInit {
    /// Connections open now (refused ones are not counted).
    public var open: UInt64 = 0
    /// The most connections served at once; more are answered 503 and closed.
    public var limit: UInt64 = 0
    /// Connections accepted, refused ones included.
    public var accepted: UInt64 = 0
    /// Closed because a request head was not complete within the header-read timeout.
    public var closedHeaderTimeout: UInt64 = 0
    /// Closed because no request began within the idle keep-alive timeout after a response.
    public var closedIdle: UInt64 = 0
    /// Closed because a request's body stopped arriving: no byte of it within the body-read
    /// timeout of the previous one.
    @AddedLater public var closedBodyTimeout: UInt64 = 0
    /// Answered 503 and closed because `limit` connections were open.
    public var refusedOverLimit: UInt64 = 0
    /// Requests answered 413 because their body was over the limit (declared in the head or
    /// found while reading it); their connection is closed.
    public var bodyTooLarge: UInt64 = 0

    /// Connections the server closed, by why: every reason, in the order reports list them.
    public var closed: [(reason: ConnectionCloseReason, count: UInt64)] {
        ConnectionCloseReason.allCases.map { ($0, self[keyPath: $0.figure]) }
    }

    private init(_ generated: Never) { switch generated {} }
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
public struct LoopFigures: Codable, Sendable, Equatable, PublicMemberwiseInit {
    /// `loop 0`, `loop 1`, … or `tasks`.
    public var name: String
    /// Lag distribution, microseconds.
    public var lag: WindowedPercentiles = .init()
    /// Timer firings whose lag exceeded the stall threshold, since start.
    public var stalls: UInt64 = 0
    /// The route whose compute stages held this executor longest over the last ten seconds.
    public var culprit: String?
    /// Time the culprit held this executor over the last ten seconds, microseconds.
    public var culpritHeldMicros: UInt64 = 0
    /// Per second, the maximum lag in microseconds; oldest first.
    public var lagHistory: [UInt64] = []
    /// A stall that is still in progress, seen by the watchdog.
    public var stallInProgress: StallInProgress?
    /// Where this executor's threads were when it stalled, most stalled time over the last
    /// 60 s first (then since start); at most `StallSite.kept` sites. Empty when none stalled.
    @AddedLater public var stallSites: [StallSite] = []
    /// Distinct sites seen beyond those kept, since start.
    @AddedLater public var stallSitesOmitted: UInt64 = 0
    /// Every lag measured since start, microseconds (for a Prometheus histogram).
    public var lagHistogram: CumulativeHistogram?
    /// Share of the last second the executor's threads ran on a CPU, 0...1 (their thread CPU
    /// clocks; for the cooperative pool, summed over its threads and divided by their number).
    /// Absent until measured, and for a second in which a pool thread exited.
    public var cpu: Double?
    /// The mean of the last ten seconds' shares.
    public var cpu10s: Double?

    private init(_ generated: Never) { switch generated {} }
}

/// Where a stalled executor's thread was: the innermost application function on its stack
/// (sampled while the stall lasted, runtime, NIO, Swift and libc frames folded), or the
/// system call a blocked thread sat in (read from /proc, the thread never signalled).
public struct StallSite: Codable, Sendable, Equatable, PublicMemberwiseInit {
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
    public var frames: [String] = []
    /// Whether the thread was running (stack sampled) or blocked in a system call.
    public var state: StallState
    /// The system call a blocked thread was in (`nanosleep`, `read`, …).
    public var syscall: String?
    /// The route whose work held the executor when the site was last seen, when known.
    public var route: String?
    /// Stalled time charged to this site over the last 60 s and since start.
    public var last60s: StallTotals = .init()
    public var total: StallTotals = .init()
    /// The longest single stall seen at this site, microseconds.
    public var maxMicros: UInt64 = 0
    /// Wall-clock time the site was last seen, seconds since the Unix epoch.
    public var lastSeen: Double = 0

    private init(_ generated: Never) { switch generated {} }
}

/// What a stalled thread was doing when the watchdog looked.
public enum StallState: String, Codable, Sendable, CaseIterable {
    /// On CPU: its stack was sampled.
    case running
    /// Asleep in a system call (not the executor's own idle wait).
    case blocked
}

/// Stalled time charged to a site: each sample charges the time since the previous look.
public struct StallTotals: Codable, Sendable, Equatable, PublicMemberwiseInit {
    /// Stalled time, microseconds.
    public var micros: UInt64 = 0
    /// Stalls that were seen at this site (one stall sampled many times counts once).
    public var stalls: UInt64 = 0

    private init(_ generated: Never) { switch generated {} }
}

/// A stall the watchdog sees while it is happening.
public struct StallInProgress: Codable, Sendable, Equatable, PublicMemberwiseInit {
    /// The route whose compute stage holds the executor, if one does.
    public var route: String?
    /// How long the executor has been held so far, microseconds.
    public var heldMicros: UInt64

    private init(_ generated: Never) { switch generated {} }
}

/// One pool of workers: threads, worker processes or resources such as connections.
public struct PoolFigures: Codable, Sendable, Equatable, PublicMemberwiseInit {
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
    public var completed: UInt64 = 0
    /// Jobs refused because the queue was full.
    public var rejected: UInt64 = 0
    /// Jobs that failed in a worker (threw, the worker died, or it ran past the timeout).
    public var failed: UInt64 = 0
    /// Jobs that ran past the pool's job timeout (answered 504, their worker process killed
    /// and replaced, or their thread written off and replaced), since start. Absent for pools
    /// without a job timeout.
    public var timedOut: UInt64?
    /// Completions per second over the last second.
    public var completedPerSecond: Double = 0
    /// Time from submission to a worker taking the job, microseconds.
    public var queueWait: WindowedPercentiles = .init()
    /// Time a worker spent on a job, microseconds.
    public var runTime: WindowedPercentiles = .init()
    /// Every queue wait since start, microseconds (for a Prometheus histogram).
    public var queueWaitHistogram: CumulativeHistogram?
    /// Per second, the largest queue depth seen; oldest first.
    public var queueHistory: [Int] = []
    /// Its workers one by one, for kinds that list them (`PoolKind.listsWorkers`); else empty.
    public var workers: [WorkerFigures] = []
    /// Callers asking for a worker or connection per second, over the last 10 s (served,
    /// queued, refused or timed out alike): the demand. Absent for pools that do not count it.
    public var arrivalsPerSecond: Double?
    /// For `connections` pools: the routes (templates) whose measured requests checked out a
    /// connection, since start. Other pools' routes are the ones whose model runs on them.
    public var routes: [String]?

    private init(_ generated: Never) { switch generated {} }
}

/// One worker process.
public struct WorkerFigures: Codable, Sendable, Equatable, PublicMemberwiseInit {
    public var pid: Int32
    public var jobsDone: UInt64
    /// Times this worker slot was restarted after its process died.
    public var restarts: UInt64
    public var residentBytes: UInt64
    public var busy: Bool

    private init(_ generated: Never) { switch generated {} }
}

/// Figures for one route template.
public struct RouteFigures: Codable, Sendable, Equatable, PublicMemberwiseInit {
    public var method: String
    /// The route template, e.g. `/users/:id`; never a raw path.
    public var path: String
    public var model: ExecutionModel
    public var requests: UInt64 = 0
    public var inFlight: Int = 0
    public var rate1s: Double = 0
    public var rate10s: Double = 0
    public var status: StatusCounts = .init()
    /// End-to-end latency, microseconds.
    public var latency: WindowedPercentiles = .init()
    /// Per second, p99 latency (µs); oldest first.
    public var p99History: [UInt64] = []
    /// Per second, requests completed; oldest first.
    public var rateHistory: [UInt64] = []
    /// Where the time of an average request went over the last ten seconds.
    public var split: LatencySplit = .init()
    /// Means per request of what requests report besides time (`RequestMeasure`: body sizes, …).
    @AddedLater public var perRequest: PerRequestMeans = .init()
    /// The compute stage's wall and CPU time over the last ten seconds.
    public var compute: ComputeFigures = .init()
    public var workClass: WorkClass = .unknown
    /// Compute stages that held an event loop or the cooperative pool over the threshold.
    public var held: HeldFigures = .init()
    /// Latency distribution since start, as (upper bound µs, count) buckets for a histogram view.
    public var histogram: [HistogramBucket] = []
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

    /// Responses with status 500 and above.
    public var errors: UInt64 { status.s5xx }

    /// How many of its jobs ran past the job timeout of the pool its model runs on, since start.
    public func jobTimeouts(in s: Snapshot) -> UInt64 {
        guard let pool = s.pool(for: model) else { return 0 }
        let reason = TimeoutCount.jobTimeout(pool: pool.name)
        return (timeouts ?? []).filter { $0.reason == reason }.reduce(0) { $0 + $1.count }
    }

    private init(_ generated: Never) { switch generated {} }
}

/// Responses by status class.
public struct StatusCounts: Codable, Sendable, Equatable, PublicMemberwiseInit {
    public var s2xx: UInt64 = 0
    public var s3xx: UInt64 = 0
    public var s4xx: UInt64 = 0
    public var s5xx: UInt64 = 0

    private init(_ generated: Never) { switch generated {} }
}

/// Mean time per request, microseconds, split by where it went.
public struct LatencySplit: Codable, Sendable, Equatable, PublicMemberwiseInit {
    /// The request's bytes waiting in the kernel for a busy event loop to read them (an
    /// estimate from the kernel's receive time, 4 ms resolution; see docs/PROTOCOL.md).
    @AddedLater public var loopWaitMicros: Double = 0
    /// Waiting for a worker (pool queue, or a task or loop hop).
    public var queueMicros: Double = 0
    /// Running the compute stage.
    public var computeMicros: Double = 0
    /// Awaiting I/O stages, but for `poolWaitMicros`.
    public var ioMicros: Double = 0
    /// Of the awaited time, waiting for a connection from a connection pool (a database's, an
    /// upstream's): the sum of the request's waits, at most its awaited time.
    @AddedLater public var poolWaitMicros: Double = 0

    private init(_ generated: Never) { switch generated {} }
}

extension LatencySplit {
    /// The parts of a request's time, in the order a request meets them. A new part is a
    /// property above, a case here, and the request's value (`RequestRecord.nanos(of:)`): the
    /// sums, the route's means, the CSV and table columns, the Prometheus split family, a
    /// group's merge, the dashboard's split bar and its legend follow from this list.
    public enum Part: Int, CaseIterable, Sendable {
        case loopWait, queue, compute, poolWait, io

        /// The name people read.
        public var name: String {
            switch self {
            case .loopWait: return "loop wait"
            case .queue: return "queue"
            case .compute: return "compute"
            case .poolWait: return "pool wait"
            case .io: return "I/O"
            }
        }

        /// The part's mean in a split, microseconds.
        public var figure: WritableKeyPath<LatencySplit, Double> & Sendable {
            switch self {
            case .loopWait: return \.loopWaitMicros
            case .queue: return \.queueMicros
            case .compute: return \.computeMicros
            case .poolWait: return \.poolWaitMicros
            case .io: return \.ioMicros
            }
        }

        /// Its CSV column (`loop_wait_us`) and, for the parts the text table shows, its header.
        public var column: (key: String, tableHeader: String?) {
            switch self {
            case .loopWait: return ("loop_wait_us", "wait")
            case .queue: return ("queue_us", nil)
            case .compute: return ("compute_us", nil)
            case .poolWait: return ("pool_wait_us", nil)
            case .io: return ("io_us", nil)
            }
        }
    }

    /// The part's mean, microseconds.
    public subscript(part: Part) -> Double {
        get { self[keyPath: part.figure] }
        set { self[keyPath: part.figure] = newValue }
    }

    /// The parts in the order a request meets them, with the names people read.
    public var parts: [(name: String, micros: Double)] { Part.allCases.map { ($0.name, self[$0]) } }
}

/// Wall and thread-CPU time of a route's compute stage.
public struct ComputeFigures: Codable, Sendable, Equatable, PublicMemberwiseInit {
    /// Mean wall time per stage, microseconds.
    public var wallMicros: Double = 0
    /// Mean thread CPU time per stage, microseconds: over the stages whose CPU time was read
    /// (in pools, every stage; on a loop or a task, the first of a route on each loop and then
    /// one in 8, or one in 64 while its stages are under 50 µs, because the read is a system call).
    public var cpuMicros: Double = 0
    /// Stages the means are over.
    public var samples: UInt64 = 0

    private init(_ generated: Never) { switch generated {} }
}

/// Compute stages that held an event loop or the cooperative pool longer than the threshold.
public struct HeldFigures: Codable, Sendable, Equatable, PublicMemberwiseInit {
    /// How many stages held it, since start.
    public var count: UInt64 = 0
    /// Total held time since start, microseconds.
    public var totalMicros: UInt64 = 0
    /// Mean time a request of this route holds a loop or the pool thread (over the last ten
    /// seconds), microseconds; 0 when its stages run in a pool or a worker process.
    public var perRequestMicros: Double = 0
    /// The part of `perRequestMicros` held by async stages (`prepare`, `respond`) that never
    /// suspended: CPU work or a blocking call written inside async code, on the cooperative pool.
    @AddedLater public var asyncMicros: Double = 0

    private init(_ generated: Never) { switch generated {} }
}

/// A distribution since start as histogram buckets (a 1-2-5 series of upper bounds from
/// 10 µs, up to the first bound at or above the largest value) and the sum of its values: what
/// a Prometheus histogram needs. From a 3-significant-digit HDR histogram, so bounds and the
/// sum are within 0.1 %.
public struct CumulativeHistogram: Codable, Sendable, Equatable, PublicMemberwiseInit {
    public var buckets: [HistogramBucket] = []
    public var sumMicros: UInt64 = 0

    /// Values recorded.
    public var count: UInt64 { buckets.reduce(0) { $0 + $1.count } }

    /// Values at or below `micros` (a bound of the buckets' series, or above them all).
    public func count(atOrBelow micros: UInt64) -> UInt64 {
        buckets.reduce(0) { $0 + ($1.upToMicros <= micros ? $1.count : 0) }
    }

    private init(_ generated: Never) { switch generated {} }
}

/// A message a route answered with a 5xx status, and how often (identical ones merged).
public struct RouteError: Codable, Sendable, Equatable, PublicMemberwiseInit {
    /// How many distinct messages a route keeps.
    public static let kept = 8
    /// The longest message kept, in characters (longer ones are cut, ending in `…`).
    public static let maxMessage = 240

    public var status: Int
    public var message: String
    /// Responses with this status and message since it was first kept.
    public var count: UInt64 = 1
    /// Seconds since the Unix epoch.
    public var firstSeen: Double
    public var lastSeen: Double

    private init(_ generated: Never) { switch generated {} }
}

/// How many of a route's requests failed because one thing timed out.
public struct TimeoutCount: Codable, Sendable, Equatable, PublicMemberwiseInit {
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

    private init(_ generated: Never) { switch generated {} }
}

/// One request that took longer than its route's slow-request threshold, with where its time went.
public struct SlowRequest: Codable, Sendable, Equatable, PublicMemberwiseInit {
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

    private init(_ generated: Never) { switch generated {} }
}

/// One bar of a latency histogram.
public struct HistogramBucket: Codable, Sendable, Equatable, PublicMemberwiseInit {
    /// Upper bound of the bucket, microseconds.
    public var upToMicros: UInt64
    public var count: UInt64

    private init(_ generated: Never) { switch generated {} }
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
public struct SelfCost: Codable, Sendable, Equatable, PublicMemberwiseInit {
    /// Mean time spent recording one request's figures, nanoseconds (timed on about one
    /// request in 64: the recording call, not the clock reads around the compute stage).
    public var nanosPerRequest: Double = 0
    /// Memory held by the statistics, bytes.
    public var statisticsBytes: UInt64 = 0
    /// Snapshot frames dropped for slow subscribers, since start.
    public var framesDropped: UInt64 = 0
    /// Time to build the last snapshot, microseconds.
    public var snapshotMicros: Double = 0
    /// Stack samples taken of stalled threads, since start.
    @AddedLater public var stallSamples: UInt64 = 0
    /// Mean time a stack sample cost the stalled thread (its signal handler), microseconds.
    @AddedLater public var stallSampleMicros: Double = 0

    private init(_ generated: Never) { switch generated {} }
}

extension Snapshot {
    /// The snapshot as one JSON document (its `Codable` shape), without a trailing newline.
    public func json() -> [UInt8] {
        JSONStreamEncoder.encode(self, capacity: 2048 + routes.count * 1800)
    }
}
