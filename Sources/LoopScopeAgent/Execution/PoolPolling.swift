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

    /// How long to poll for the next arrival: the whole window while the last wait was within
    /// it (arrivals come that fast), nothing otherwise.
    @inline(__always)
    static func window(_ window: UInt64, afterWaitOf lastWait: UInt64) -> UInt64 {
        lastWait <= window ? window : 0
    }

    /// Asks `ready` without sleeping until it says yes or `nanos` have passed.
    @inline(__always)
    static func spin(for nanos: UInt64, until ready: () -> Bool) {
        let deadline = Clocks.monotonicNanos() &+ nanos
        repeat {
            if ready() { return }
        } while Clocks.monotonicNanos() < deadline
    }
}
