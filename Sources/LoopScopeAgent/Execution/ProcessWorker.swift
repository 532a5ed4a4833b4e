#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CLoopScopeSys
import Synchronization

/// The worker side of the process pool: the entry hook a server executable calls first thing in `main`.
///
/// ```swift
/// ProcessWorker.runIfRequested(jobs: MyApp.jobs)   // returns at once unless started as a worker
/// ```
public enum ProcessWorker {
    /// The first argument that starts an executable in worker mode.
    public static let argument = "__loopscope-worker"

    /// If this process was started as a pool worker, serves jobs until its parent closes the pipe
    /// or dies, then exits. Otherwise returns immediately.
    public static func runIfRequested(jobs: [ComputeJob], arguments: [String] = CommandLine.arguments) {
        registered.withLock { $0 = Set(jobs.map(\.name)) }
        guard isWorker(arguments: arguments) else { return }
        exit(serve(jobs: jobs))
    }

    /// The names of the jobs this executable serves as a worker, as `runIfRequested(jobs:)`
    /// registered them; nil when it was not called. A server whose workers are this executable
    /// refuses to run a route in processes whose job is not among them (the worker would
    /// answer every request with "no job named …").
    package static var registeredJobNames: Set<String>? { registered.withLock { $0 } }
    private static let registered = Mutex<Set<String>?>(nil)

    /// Serves jobs on stdin/stdout. Returns the exit status.
    static func serve(jobs: [ComputeJob]) -> Int32 {
        _ = loopscope_set_parent_death_signal()
        if getppid() == 1 { return 1 }
        // Ctrl-C in a terminal signals the whole foreground process group, workers included:
        // the server drains on it and its jobs in flight must finish, so a worker leaves only
        // when its parent closes the pipe (or dies: the parent-death signal above).
        signal(SIGINT, SIG_IGN)
        // Keep the reply pipe private; anything a job prints goes to stderr.
        let replyFD = dup(1)
        dup2(2, 1)
        let table = Dictionary(jobs.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        // Poll for the next request only while requests have been coming within the window.
        let window = getenv(PoolPolling.environmentKey).flatMap { UInt64(String(cString: $0)) } ?? PoolPolling.nanos(PoolPolling.defaultWindow)
        var repliedAt: UInt64 = 0
        var lastGap: UInt64 = 0
        while let frame = PipeIO.readFrame(0, spinNanos: PoolPolling.window(window, afterWaitOf: lastGap)) {
            if repliedAt != 0 { lastGap = Clocks.monotonicNanos() &- repliedAt }
            let reply: WorkerProtocol.Reply
            if let (name, input) = WorkerProtocol.parseRequest(frame) {
                if let job = table[name] {
                    reply = WorkerProtocol.reply(for: job.measuredRun(input))
                } else {
                    reply = .init(status: .unknownJob, cpuNanos: 0, wallNanos: 0, body: Array("no job named '\(name)' in the worker".utf8))
                }
            } else {
                reply = .init(status: .failed, cpuNanos: 0, wallNanos: 0, body: Array("malformed job frame".utf8))
            }
            guard PipeIO.writeFrame(replyFD, WorkerProtocol.reply(reply)) else { return 1 }
            repliedAt = Clocks.monotonicNanos()
        }
        return 0
    }
}
