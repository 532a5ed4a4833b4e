import NIOCore
import LoopScopeWire

/// What the instrumentation is started with: the probes, the watchdog and the control socket.
/// Plain value; the defaults suit most servers.
public struct AgentConfiguration: Sendable {
    /// Shown in `loopscope list` and the dashboard header.
    public var name: String = "loopscope-app"
    /// Request-path statistics and probes. Off only to measure what they cost.
    public var instrumented: Bool = true
    /// How often the lag probes run while their executor is active (`ProbeCadence`).
    public var lagInterval: TimeAmount = .milliseconds(5)
    /// How often they run while it is quiet, so an idle server stays idle (never more often
    /// than `lagInterval`); set it to `lagInterval` to probe at one rate always.
    public var quietLagInterval: TimeAmount = .milliseconds(100)
    /// Probe lag at or above this counts as a stall.
    public var stallThreshold: TimeAmount = .milliseconds(2)
    /// Work holding a loop or a cooperative-pool thread at least this long is charged to its route.
    public var heldThreshold: TimeAmount = .milliseconds(2)
    /// The watchdog reports a stall in progress past this.
    public var watchdogThreshold: TimeAmount = .milliseconds(100)
    /// An executor busy this long has its threads looked at (stack or system call) every few
    /// milliseconds while the stall lasts: its stall sites. Changeable at runtime.
    public var stallSampleThreshold: TimeAmount = .milliseconds(10)
    /// Sample stalled threads' stacks (SIGPROF). Off, stalls still count but name no site.
    public var sampleStallStacks: Bool = true
    /// A request taking longer than this is logged as slow, with its split (`RouteFigures.slowRequests`,
    /// `loopscope log`); nil: twice its route's 10 s p99, at least 1 ms. At most
    /// `slowRequestsPerSecond` are logged a second, over all routes.
    public var slowRequestThreshold: TimeAmount? = nil
    public var slowRequestsPerSecond: Int = 5

    /// `slowRequestThreshold` in nanoseconds (nil: each route's own, from its p99).
    package var slowRequestThresholdNanos: UInt64? { slowRequestThreshold.map { UInt64($0.nanoseconds) } }
    /// Set when this server is one worker of a group sharing a port (announced, in snapshots).
    public var member: GroupMember? = nil
    /// The control socket; nil to run without one.
    public var control: ControlConfiguration? = ControlConfiguration()
    /// Threads of the pool offload points placed on `threads` run on (resizable at runtime).
    public var offloadThreads: Int = System.coreCount
    /// Jobs that may wait for that pool; more are refused with `OffloadError.queueFull`.
    public var offloadQueueLimit: Int = 1024
    /// Worker processes `OffloadJob`s placed on `processes` run in (0: no process pool, that
    /// placement refused). Needs `ProcessWorker.runIfRequested(offloading:)` first in `main`.
    public var offloadProcesses: Int = 0
    /// How to start them: this executable in worker mode by default.
    public var offloadWorkerCommand: WorkerCommand = .currentExecutable
    /// A job in a worker process running longer is answered with `OffloadError.processFailed`
    /// (504) and its worker killed and replaced; nil for no limit.
    public var offloadProcessTimeout: TimeAmount? = .seconds(30)

    public init(name: String = "loopscope-app") {
        self.name = name
    }

    /// Throws for values no agent can run with.
    public func validate() throws(RuntimeError) {
        guard lagInterval.nanoseconds >= 1_000_000 else { throw .invalidConfiguration("lag interval must be at least 1 ms") }
        if let t = slowRequestThreshold, t.nanoseconds <= 0 { throw .invalidConfiguration("the slow-request threshold must be positive, got \(t.nanoseconds) ns") }
        guard slowRequestsPerSecond >= 0 else { throw .invalidConfiguration("slow requests per second must be 0 or more, got \(slowRequestsPerSecond)") }
        let thresholdMillis = Int(stallSampleThreshold.nanoseconds / 1_000_000)
        guard Limit.stallThresholdMillis.contains(thresholdMillis) else {
            throw .invalidConfiguration(Limit.stallThresholdMillis.refusal("stallSampleThreshold (milliseconds)", thresholdMillis))
        }
        if let control {
            let range = ControlConfiguration.maxConnectionsRange
            guard range.contains(control.maxConnections) else {
                throw .invalidConfiguration("max control connections must be \(range.lowerBound)...\(range.upperBound), got \(control.maxConnections)")
            }
        }
    }
}

/// Where and how the control socket listens.
public struct ControlConfiguration: Sendable {
    /// Directory for sockets; nil for the per-user default (`$XDG_RUNTIME_DIR/loopscope` or `/tmp/loopscope-<uid>`).
    public var directory: String? = nil
    /// Members of this group may connect read-only (snapshots and streams, no commands).
    public var readOnlyGroup: UInt32? = nil
    /// Control connections served at once; one more gets a `too_many_connections` error line
    /// and is closed.
    public var maxConnections: Int = ControlConfiguration.defaultMaxConnections

    /// `maxConnections`: its default and range.
    public static let defaultMaxConnections = 64
    public static let maxConnectionsRange = 1...4096

    public init(directory: String? = nil, readOnlyGroup: UInt32? = nil, maxConnections: Int = ControlConfiguration.defaultMaxConnections) {
        self.directory = directory
        self.readOnlyGroup = readOnlyGroup
        self.maxConnections = maxConnections
    }
}
