import ArgumentParser
import NIOCore
import LoopScopeRuntime
import LoopScopeWire

/// Flags shared by `serve` and `demo` that configure the runtime. Numbers are parsed
/// unconditionally, so `--threads -3` reaches validation and gets its range, not "missing value".
struct ServerOptions: ParsableArguments {
    @Option(help: "Name shown by `loopscope list` and the dashboard.") var name = "demo-app"
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(parsing: .unconditional, help: "HTTP port (0 picks a free one).") var port = 8080
    @Option(parsing: .unconditional, help: "HTTP event loops.") var loops = 1
    @Option(parsing: .unconditional, help: "Threads in the thread pool.") var threads = System.coreCount
    @Option(parsing: .unconditional, help: "Worker processes in the process pool.") var processes = 2
    @Option(parsing: .unconditional, help: "Queue limit of the thread pool.") var threadQueueLimit = 1024
    @Option(parsing: .unconditional, help: "Queue limit of the process pool.") var processQueueLimit = 1024
    @Option(parsing: .unconditional, help: "Connections in the demo database pool.") var dbConnections = 2
    @Option(parsing: .unconditional, help: "Port of the upstream stub that /fanout and /mixed call.") var upstreamPort = 8081
    @Option(parsing: .unconditional, help: "Delay of the embedded upstream stub, milliseconds.") var upstreamDelayMs = 20
    @Flag(inversion: .prefixedNo, help: "Start the upstream stub inside this process.") var embeddedUpstream = true
    @Option(parsing: .unconditional, help: "Connections of the upstream client's pool (/fanout and /mixed wait for one when all are in use).") var upstreamConnections = 16
    @Option(parsing: .unconditional, help: "An upstream call (waiting for a connection included) running longer fails, milliseconds.") var upstreamTimeoutMs = 5000
    @Option(parsing: .unconditional, help: "How long idle pool workers poll for the next job before sleeping, microseconds; only while jobs come that fast (0: never).") var poolPollUs = 50
    @Flag(help: "Turn off request instrumentation and probes (to measure their cost).") var uninstrumented = false
    @Option(parsing: .unconditional, help: "How long an event loop or the cooperative pool must be busy before its threads' stacks are sampled, milliseconds.") var stallThresholdMs = 10
    @Flag(inversion: .prefixedNo, help: "Sample stalled threads' stacks (stall sites).") var stallStacks = true
    @Option(parsing: .unconditional, help: "Requests taking longer are logged as slow, with their split (loopscope log), milliseconds (0: twice the route's 10 s p99, at least 1 ms).") var slowRequestMs = 0
    @Option(help: "When to read requests' loop wait from the kernel: while-busy, always, off.") var loopWait: LoopWaitMeasurement = .whileBusy
    @Flag(help: "Serve Prometheus text at GET /metrics.") var metrics = false
    @Option(parsing: .unconditional, help: "With --workers: serve every worker's Prometheus text at GET /metrics on this port, gathered at each scrape (through the shared port a scrape reaches one worker at a time).")
    var metricsPort: Int?
    @Option(help: "Directory of the control socket (default: $XDG_RUNTIME_DIR/loopscope or /tmp/loopscope-<uid>).") var controlDir: String?
    @Option(parsing: .unconditional, help: "Group id whose members may attach read-only.") var readOnlyGroup: UInt32?
    @Flag(help: "Run without a control socket.") var noControl = false
    @Option(parsing: .unconditional, help: "Control connections served at once; one more gets a too_many_connections error and is closed.")
    var maxControlConnections = ControlConfiguration.defaultMaxConnections
    @Option(parsing: .unconditional, help: "A request head must be complete within this many milliseconds (from accept, or from the request's first byte); else the connection is closed.")
    var headerTimeoutMs = ServerOptions.millis(ConnectionLimits().headerTimeout)
    @Option(parsing: .unconditional, help: "A keep-alive connection with no request begun this many milliseconds after its last response is closed.")
    var keepAliveTimeoutMs = ServerOptions.millis(ConnectionLimits().idleTimeout)
    @Option(parsing: .unconditional, help: "A request body with no byte arriving this many milliseconds after the previous one (or the head) has its connection closed.")
    var bodyTimeoutMs = ServerOptions.millis(ConnectionLimits().bodyTimeout)
    @Option(parsing: .unconditional, help: "HTTP connections served at once; more are answered 503 (Retry-After) and closed without being read.")
    var maxConnections = ConnectionLimits().maxConnections
    @Option(parsing: .unconditional, help: "A thread- or process-pool job running longer is answered 504; its worker process is killed and replaced, its thread written off and replaced (0: no timeout).")
    var jobTimeoutMs = ServerOptions.millis(ServerConfiguration().jobTimeout ?? .zero)
    @Option(parsing: .unconditional, help: "A request not answered within this many milliseconds is answered 504 and counted as a deadline timeout of its route (0: no deadline).")
    var routeTimeoutMs = 0
    @Option(parsing: .unconditional, help: "Worker processes sharing the port (SO_REUSEPORT), each with its own loops, pools and control socket, under a supervisor that restarts a crashed one (as uvicorn --workers).")
    var workers = 1
    // Set by the supervisor on each worker it starts.
    @Option(help: .hidden) var memberGroup: String?
    @Option(help: .hidden) var memberIndex = 0
    @Option(help: .hidden) var memberSize = 1

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535, got \(port)") }
        guard (1...64).contains(loops) else { throw ValidationError("--loops must be 1...64, got \(loops)") }
        for (flag, value) in [("--threads", threads), ("--processes", processes), ("--db-connections", dbConnections)] where !Limit.poolSize.contains(value) {
            throw ValidationError(Limit.poolSize.refusal(flag, value))
        }
        for (flag, value) in [("--thread-queue-limit", threadQueueLimit), ("--process-queue-limit", processQueueLimit)] where !Limit.queueLimit.contains(value) {
            throw ValidationError(Limit.queueLimit.refusal(flag, value))
        }
        guard (0...65535).contains(upstreamPort) else { throw ValidationError("--upstream-port must be 0...65535 (0 picks a free port for the embedded stub)") }
        guard (0...10_000).contains(upstreamDelayMs) else { throw ValidationError("--upstream-delay-ms must be 0...10000") }
        guard (1...1024).contains(upstreamConnections) else { throw ValidationError("--upstream-connections must be 1...1024, got \(upstreamConnections)") }
        guard (1...600_000).contains(upstreamTimeoutMs) else { throw ValidationError("--upstream-timeout-ms must be 1...600000, got \(upstreamTimeoutMs)") }
        guard (0...1000).contains(poolPollUs) else { throw ValidationError("--pool-poll-us must be 0...1000, got \(poolPollUs)") }
        let timeouts = ConnectionLimits.timeoutMillisRange
        for (flag, value) in [("--header-timeout-ms", headerTimeoutMs), ("--keep-alive-timeout-ms", keepAliveTimeoutMs), ("--body-timeout-ms", bodyTimeoutMs)] where !timeouts.contains(value) {
            throw ValidationError("\(flag) must be \(timeouts.lowerBound)...\(timeouts.upperBound), got \(value)")
        }
        let jobTimeouts = ServerConfiguration.jobTimeoutMillisRange
        guard jobTimeoutMs == 0 || jobTimeouts.contains(jobTimeoutMs) else {
            throw ValidationError("--job-timeout-ms must be 0 (none) or \(jobTimeouts.lowerBound)...\(jobTimeouts.upperBound), got \(jobTimeoutMs)")
        }
        guard routeTimeoutMs == 0 || jobTimeouts.contains(routeTimeoutMs) else {
            throw ValidationError("--route-timeout-ms must be 0 (none) or \(jobTimeouts.lowerBound)...\(jobTimeouts.upperBound), got \(routeTimeoutMs)")
        }
        let connections = ConnectionLimits.maxConnectionsRange
        guard connections.contains(maxConnections) else {
            throw ValidationError("--max-connections must be \(connections.lowerBound)...\(connections.upperBound), got \(maxConnections)")
        }
        let control = ControlConfiguration.maxConnectionsRange
        guard control.contains(maxControlConnections) else {
            throw ValidationError("--max-control-connections must be \(control.lowerBound)...\(control.upperBound), got \(maxControlConnections)")
        }
        guard Self.workersRange.contains(workers) else { throw ValidationError("--workers must be \(Self.workersRange.lowerBound)...\(Self.workersRange.upperBound), got \(workers)") }
        if let metricsPort {
            guard workers > 1 else { throw ValidationError("--metrics-port is the group's endpoint: it needs --workers 2 or more (one server serves GET /metrics on its own port with --metrics)") }
            guard (1...65535).contains(metricsPort), metricsPort != port else { throw ValidationError("--metrics-port must be 1...65535 and not the HTTP port, got \(metricsPort)") }
        }
        guard (0...600_000).contains(slowRequestMs) else { throw ValidationError("--slow-request-ms must be 0...600000, got \(slowRequestMs)") }
        guard Limit.stallThresholdMillis.contains(stallThresholdMs) else { throw ValidationError(Limit.stallThresholdMillis.refusal("--stall-threshold-ms", stallThresholdMs)) }
    }

    var configuration: ServerConfiguration {
        var c = ServerConfiguration()
        c.name = name
        c.host = host
        c.port = port
        c.eventLoops = loops
        c.threadPoolSize = threads
        c.processPoolSize = processes
        c.threadQueueLimit = threadQueueLimit
        c.processQueueLimit = processQueueLimit
        c.poolPolling = .microseconds(Int64(poolPollUs))
        c.instrumented = !uninstrumented
        c.stallSampleThreshold = .milliseconds(Int64(stallThresholdMs))
        c.slowRequestThreshold = slowRequestMs > 0 ? .milliseconds(Int64(slowRequestMs)) : nil
        c.sampleStallStacks = stallStacks
        c.loopWait = loopWait
        c.metricsEndpoint = metrics
        c.control = noControl ? nil : ControlConfiguration(directory: controlDir, readOnlyGroup: readOnlyGroup, maxConnections: maxControlConnections)
        c.connections.headerTimeout = .milliseconds(Int64(headerTimeoutMs))
        c.connections.idleTimeout = .milliseconds(Int64(keepAliveTimeoutMs))
        c.connections.bodyTimeout = .milliseconds(Int64(bodyTimeoutMs))
        c.connections.maxConnections = maxConnections
        c.jobTimeout = jobTimeoutMs == 0 ? nil : .milliseconds(Int64(jobTimeoutMs))
        c.routeTimeout = routeTimeoutMs == 0 ? nil : .milliseconds(Int64(routeTimeoutMs))
        if let group = memberGroup {
            c.agent.member = GroupMember(group: group, worker: memberIndex, size: memberSize)
            c.reusePort = true
        }
        return c
    }

    /// `--workers`.
    static let workersRange = 1...64

    /// A default duration as the whole milliseconds its flag takes.
    static func millis(_ t: TimeAmount) -> Int { Int(t.nanoseconds / 1_000_000) }
}

extension LoopWaitMeasurement: ExpressibleByArgument {}
