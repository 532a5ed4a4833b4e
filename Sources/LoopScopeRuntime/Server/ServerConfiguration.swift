import NIOCore
import LoopScopeWire
import LoopScopeAgent

/// Everything a server is started with. Plain value; the defaults suit the demo.
public struct ServerConfiguration: Sendable {
    /// Shown in `loopscope list` and the dashboard header.
    public var name: String = "loopscope-app"
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
    /// Request-path statistics and probes. Off only to measure what they cost.
    public var instrumented: Bool = true
    /// How often the lag probes fire.
    public var lagInterval: TimeAmount = .milliseconds(5)
    /// Probe lag at or above this counts as a stall.
    public var stallThreshold: TimeAmount = .milliseconds(2)
    /// Compute stages holding a loop at least this long are charged to their route.
    public var heldThreshold: TimeAmount = .milliseconds(2)
    /// The watchdog reports a stall in progress past this.
    public var watchdogThreshold: TimeAmount = .milliseconds(100)
    /// An executor busy this long has its threads looked at (stack or system call) every few
    /// milliseconds while the stall lasts: its stall sites. Changeable at runtime.
    public var stallSampleThreshold: TimeAmount = .milliseconds(10)
    /// Sample stalled threads' stacks (SIGPROF). Off, stalls still count but name no site.
    public var sampleStallStacks: Bool = true
    /// When requests have their loop wait read from the kernel.
    public var loopWait: LoopWaitMeasurement = .whileBusy
    /// Request bodies larger than this are refused with 413.
    public var maxBodyBytes: Int = 1 << 20
    /// The control socket; nil to run without one.
    public var control: ControlConfiguration? = ControlConfiguration()
    /// Serve Prometheus text at `GET /metrics` on the HTTP port.
    public var metricsEndpoint: Bool = false
    /// How long shutdown waits for in-flight requests.
    public var drainTimeout: TimeAmount = .seconds(10)
    /// How long idle pool workers poll for the next job before sleeping, while jobs keep coming
    /// that fast (see `PoolPolling`); zero turns polling off.
    public var poolPolling: TimeAmount = PoolPolling.defaultWindow

    public init() {}

    /// The instrumentation's part of this configuration.
    public var agent: AgentConfiguration {
        var a = AgentConfiguration(name: name)
        a.instrumented = instrumented
        a.lagInterval = lagInterval
        a.stallThreshold = stallThreshold
        a.heldThreshold = heldThreshold
        a.watchdogThreshold = watchdogThreshold
        a.stallSampleThreshold = stallSampleThreshold
        a.sampleStallStacks = sampleStallStacks
        a.control = control
        return a
    }

    /// Throws for values no server can run with.
    public func validate() throws(RuntimeError) {
        guard (0...65535).contains(port) else { throw .invalidConfiguration("port \(port) is not in 0...65535") }
        guard (1...64).contains(eventLoops) else { throw .invalidConfiguration("event loops must be 1...64, got \(eventLoops)") }
        guard (1...256).contains(threadPoolSize) else { throw .invalidConfiguration("thread pool size must be 1...256, got \(threadPoolSize)") }
        guard (1...256).contains(processPoolSize) else { throw .invalidConfiguration("process pool size must be 1...256, got \(processPoolSize)") }
        guard threadQueueLimit >= 1, processQueueLimit >= 1 else { throw .invalidConfiguration("queue limits must be at least 1") }
        try agent.validate()
        guard (0...1_000_000).contains(poolPolling.nanoseconds) else {
            throw .invalidConfiguration("pool polling must be 0...1000 µs, got \(poolPolling.nanoseconds / 1000) µs")
        }
    }
}

/// When the runtime reads how long a request's bytes waited for its event loop (`TCP_INFO`,
/// one system call per request).
public enum LoopWaitMeasurement: String, Sendable, CaseIterable {
    /// While the loop has been seen busy (lag or a held stage of 1 ms or more) within 2 s; a
    /// loop keeping time makes requests wait less than the kernel's clock can tell.
    case whileBusy = "while-busy"
    /// On every request (to measure what the system call costs).
    case always
    /// Never: loop wait reads 0.
    case off
}
