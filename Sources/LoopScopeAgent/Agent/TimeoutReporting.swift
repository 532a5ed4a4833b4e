import LoopScopeWire

/// An error that may be a timeout, and says which: the reason a route's timeouts are counted
/// under (`RouteFigures.timeouts`), e.g. `postgres connection wait`, `upstream call`,
/// `deadline`. Throw one from a handler measured by the agent (or make your client's errors
/// conform) and its route counts it.
public protocol TimeoutReporting: Error {
    /// Why the call timed out; nil when this error is not a timeout.
    var timeoutReason: String? { get }
}

extension ConnectionPoolError: TimeoutReporting {
    public var timeoutReason: String? {
        if case .timedOut(let pool, _) = self { return TimeoutCount.connectionWait(pool: pool) }
        return nil
    }
}

extension ComputeFailure {
    /// The reason a failed compute stage counts as a timeout under, if it was one.
    package var timeoutReason: String? {
        switch self {
        case .timedOut(let pool, _): return TimeoutCount.jobTimeout(pool: pool)
        case .deadline: return TimeoutCount.deadline
        case .callTimedOut(let reason, _): return reason
        default: return nil
        }
    }
}
