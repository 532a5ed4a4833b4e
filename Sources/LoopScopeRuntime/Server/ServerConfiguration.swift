import NIOCore
import LoopScopeWire
import LoopScopeAgent

/// Everything a server is started with. Plain value; the defaults suit the demo.
///
/// The instrumentation's settings live in `agent` (`AgentConfiguration`, where their defaults
/// and meanings are written); the properties below named after them read and write it.
public struct ServerConfiguration: Sendable {
    /// The probes', watchdog's and control socket's settings.
    public var agent = AgentConfiguration()
    public var host: String = "127.0.0.1"
    /// 0 picks a free port (see `LoopScopeServer.httpPort`).
    public var port: Int = 8080
    /// HTTP event loops; defaults to one per core.
    public var eventLoops: Int = System.coreCount
    public var threadPoolSize: Int = System.coreCount
    public var threadQueueLimit: Int = 1024
    public var processPoolSize: Int = 2
    public var processQueueLimit: Int = 1024
    /// How to start process workers; defaults to this executable in worker mode.
    public var workerCommand: WorkerCommand? = nil
    /// When requests have their loop wait read from the kernel.
    public var loopWait: LoopWaitMeasurement = .whileBusy
    /// Request bodies larger than this are refused with 413: at the head when its
    /// `Content-Length` says so (the body is not read), else once the body has grown past it.
    public var maxBodyBytes: Int = 1 << 20
    /// Header-read and idle keep-alive timeouts and the connection limit.
    public var connections = ConnectionLimits()
    /// Serve Prometheus text at `GET /metrics` on the HTTP port.
    public var metricsEndpoint: Bool = false
    /// How long shutdown waits for in-flight requests.
    public var drainTimeout: TimeAmount = .seconds(10)
    /// How long idle pool workers poll for the next job before sleeping, while jobs keep coming
    /// that fast (see `PoolPolling`); zero turns polling off.
    public var poolPolling: TimeAmount = PoolPolling.defaultWindow
    /// Listen with `SO_REUSEPORT`, so several worker processes share the port (`serve --workers`).
    public var reusePort = false
    /// A job of the thread or process pool running longer is answered 504 (the worker process
    /// killed and replaced, the thread written off and replaced); nil for no timeout.
    public var jobTimeout: TimeAmount? = .seconds(30)
    /// A request of a route without a `timeout` of its own not answered within this is
    /// answered 504 (`deadline`); nil: no deadline.
    public var routeTimeout: TimeAmount? = nil
    /// `jobTimeout`, milliseconds: 1 ms to an hour.
    public static let jobTimeoutMillisRange = 1...3_600_000

    public init() {}

    /// See `AgentConfiguration`.
    public var name: String { get { agent.name } set { agent.name = newValue } }
    public var instrumented: Bool { get { agent.instrumented } set { agent.instrumented = newValue } }
    public var lagInterval: TimeAmount { get { agent.lagInterval } set { agent.lagInterval = newValue } }
    public var stallThreshold: TimeAmount { get { agent.stallThreshold } set { agent.stallThreshold = newValue } }
    public var heldThreshold: TimeAmount { get { agent.heldThreshold } set { agent.heldThreshold = newValue } }
    public var watchdogThreshold: TimeAmount { get { agent.watchdogThreshold } set { agent.watchdogThreshold = newValue } }
    public var stallSampleThreshold: TimeAmount { get { agent.stallSampleThreshold } set { agent.stallSampleThreshold = newValue } }
    /// Requests over this are logged as slow (nil: twice their route's 10 s p99, at least 1 ms).
    public var slowRequestThreshold: TimeAmount? { get { agent.slowRequestThreshold } set { agent.slowRequestThreshold = newValue } }
    public var sampleStallStacks: Bool { get { agent.sampleStallStacks } set { agent.sampleStallStacks = newValue } }
    public var control: ControlConfiguration? { get { agent.control } set { agent.control = newValue } }

    /// Throws for values no server can run with.
    public func validate() throws(RuntimeError) {
        guard (0...65535).contains(port) else { throw .invalidConfiguration("port \(port) is not in 0...65535") }
        guard (1...64).contains(eventLoops) else { throw .invalidConfiguration("event loops must be 1...64, got \(eventLoops)") }
        for (name, size) in [("threadPoolSize", threadPoolSize), ("processPoolSize", processPoolSize)] where !Limit.poolSize.contains(size) {
            throw .invalidConfiguration(Limit.poolSize.refusal(name, size))
        }
        for (name, limit) in [("threadQueueLimit", threadQueueLimit), ("processQueueLimit", processQueueLimit)] where !Limit.queueLimit.contains(limit) {
            throw .invalidConfiguration(Limit.queueLimit.refusal(name, limit))
        }
        try agent.validate()
        try connections.validate()
        guard (0...1_000_000).contains(poolPolling.nanoseconds) else {
            throw .invalidConfiguration("pool polling must be 0...1000 µs, got \(poolPolling.nanoseconds / 1000) µs")
        }
        if let routeTimeout {
            let ms = Int(routeTimeout.nanoseconds / 1_000_000)
            guard Self.jobTimeoutMillisRange.contains(ms) else {
                throw .invalidConfiguration("route timeout must be \(Self.jobTimeoutMillisRange.lowerBound)...\(Self.jobTimeoutMillisRange.upperBound) ms, got \(ms) ms")
            }
        }
        if let jobTimeout {
            let ms = Int(jobTimeout.nanoseconds / 1_000_000)
            guard Self.jobTimeoutMillisRange.contains(ms) else {
                throw .invalidConfiguration("job timeout must be \(Self.jobTimeoutMillisRange.lowerBound)...\(Self.jobTimeoutMillisRange.upperBound) ms, got \(ms) ms")
            }
        }
    }
}

/// When the runtime reads how long a request's bytes waited for its event loop (`TCP_INFO`,
/// one system call per request).
public enum LoopWaitMeasurement: String, Sendable, CaseIterable {
    /// While the loop has been seen busy (lag or a held stage of 2 ms or more) within 2 s; a
    /// loop keeping time makes requests wait less than the kernel's clock can tell. Requests
    /// read within 0.5 ms of the loop's last reading take it (`ExecutorStats.loopWait`).
    case whileBusy = "while-busy"
    /// On every request, one system call each (to measure what the call costs).
    case always
    /// Never: loop wait reads 0.
    case off
}
