import Synchronization
import LoopScopeWire

/// The HTTP listener's connections: admission against the limit and the counts the snapshot
/// reports (`ConnectionFigures`). Updated from every event loop with relaxed atomics; a
/// snapshot may see one counter a connection ahead of another. Thread-safe.
final class ConnectionStats: Sendable {
    let limit: Int
    private let open = Atomic<Int>(0)
    private let accepted = Atomic<UInt64>(0)
    private let closedHeaderTimeout = Atomic<UInt64>(0)
    private let closedIdle = Atomic<UInt64>(0)
    private let closedBodyTimeout = Atomic<UInt64>(0)
    private let refusedOverLimit = Atomic<UInt64>(0)
    private let bodyTooLarge = Atomic<UInt64>(0)

    init(limit: Int) { self.limit = limit }

    /// A connection was accepted: true when it may be served (it is then open until
    /// `closed()`), false when `limit` connections are open (counted as refused).
    func admit() -> Bool {
        accepted.add(1, ordering: .relaxed)
        if open.add(1, ordering: .relaxed).newValue > limit {
            open.subtract(1, ordering: .relaxed)
            count(.overLimit)
            return false
        }
        return true
    }

    /// An admitted connection closed.
    func closed() { open.subtract(1, ordering: .relaxed) }

    /// The server closed a connection for `reason`.
    func count(_ reason: ConnectionCloseReason) {
        switch reason {
        case .headerTimeout: closedHeaderTimeout.add(1, ordering: .relaxed)
        case .idleTimeout: closedIdle.add(1, ordering: .relaxed)
        case .bodyTimeout: closedBodyTimeout.add(1, ordering: .relaxed)
        case .overLimit: refusedOverLimit.add(1, ordering: .relaxed)
        case .bodyTooLarge: bodyTooLarge.add(1, ordering: .relaxed)
        }
    }

    func figures() -> ConnectionFigures {
        ConnectionFigures(open: UInt64(max(0, open.load(ordering: .relaxed))), limit: UInt64(limit), accepted: accepted.load(ordering: .relaxed),
                          closedHeaderTimeout: closedHeaderTimeout.load(ordering: .relaxed), closedIdle: closedIdle.load(ordering: .relaxed),
                          closedBodyTimeout: closedBodyTimeout.load(ordering: .relaxed),
                          refusedOverLimit: refusedOverLimit.load(ordering: .relaxed), bodyTooLarge: bodyTooLarge.load(ordering: .relaxed))
    }
}
