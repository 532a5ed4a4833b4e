import NIOCore

/// How long an idle pool worker polls for its next job before it sleeps (see `WorkQueue`,
/// `WorkerProcess.call`, `ProcessWorker`). Polling only happens while jobs keep arriving within
/// the window; zero turns it off.
public enum PoolPolling {
    /// The window every pool uses unless told otherwise.
    public static let defaultWindow: TimeAmount = .microseconds(50)
    /// Passes the window to worker processes.
    static let environmentKey = "LOOPSCOPE_WORKER_POLL_NS"

    static func nanos(_ window: TimeAmount) -> UInt64 { UInt64(max(window.nanoseconds, 0)) }
}
