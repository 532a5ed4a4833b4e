import NIOCore
import LoopScopeWire

/// Which timeout an HTTP connection is under, and what its handler should do at each event.
/// Pure: the handler (`ConnectionGuard`) reports events and carries out the actions.
///
/// A connection waits for a request head under the header-read timeout (from its accept for
/// the first request, from the first byte of each later one), reads a request's body under
/// the body-read timeout (between successive reads), is under no timeout while its requests
/// are being answered, and waits for the next request under the idle timeout.
struct ConnectionTimeouts: Equatable {
    enum Phase: Equatable {
        /// Waiting for a request head to be complete; `partial` once some of it was read.
        case awaitingHead(partial: Bool)
        /// This many requests have their head and no response yet (more than one when pipelined).
        case answering(requests: Int)
        /// Between requests, nothing of the next one received.
        case idle
    }

    enum Action: Equatable {
        case none
        /// Cancel any armed timer and arm one for `timeout`; tag it with `generation`.
        case arm(ConnectionCloseReason, after: TimeAmount, generation: Int)
        /// Cancel any armed timer.
        case disarm
        /// Close the connection, counted under this reason.
        case close(ConnectionCloseReason)
    }

    /// What to do with the connection when the server drains.
    enum Drain: Equatable {
        /// Between requests with nothing of the next one read: close it now.
        case closeNow
        /// Answering: NIO's HTTP pipeline handler answers with `connection: close`, then closes.
        case passOn
        /// Part of a head is read: pass the drain on once the head is complete (`drainOnHead`).
        /// Told to quiesce with a partial head buffered, NIO's pipeline handler closes, its
        /// decoder turns the partial head into a 400 written after the close, and NIO asserts
        /// ("Wrote in quiescing completed state", debug builds).
        case afterHead
    }

    let limits: ConnectionLimits
    private(set) var phase: Phase = .awaitingHead(partial: false)
    /// The server drains and this connection's next head is to be passed the drain when it
    /// is complete; `headReceived` clears it.
    private(set) var drainOnHead = false
    /// The latest request's body is still being read.
    private(set) var readingBody = false
    /// Bumped at every arm and disarm: a timer that fires with an older one is stale.
    private(set) var generation = 0

    init(limits: ConnectionLimits) { self.limits = limits }

    /// The connection is open: its first head is due within the header timeout.
    mutating func opened() -> Action {
        phase = .awaitingHead(partial: false)
        return arm(.headerTimeout, limits.headerTimeout)
    }

    /// Bytes arrived: the first of a request after an idle spell starts the header timeout;
    /// more of a body restarts the body timeout.
    mutating func bytesRead() -> Action {
        if readingBody, case .answering = phase { return arm(.bodyTimeout, limits.bodyTimeout) }
        switch phase {
        case .answering:
            return .none
        case .awaitingHead:
            phase = .awaitingHead(partial: true)
            return .none
        case .idle:
            phase = .awaitingHead(partial: true)
            return arm(.headerTimeout, limits.headerTimeout)
        }
    }

    /// A complete request head was decoded; `bodyFollows` when it announced a body.
    mutating func headReceived(bodyFollows: Bool = false) -> Action {
        drainOnHead = false
        let timerArmed: Bool
        switch phase {
        case .answering(let n):
            phase = .answering(requests: n + 1)
            timerArmed = readingBody
        case .awaitingHead, .idle:
            phase = .answering(requests: 1)
            timerArmed = true
        }
        readingBody = bodyFollows
        if bodyFollows { return arm(.bodyTimeout, limits.bodyTimeout) }
        guard timerArmed else { return .none }
        generation += 1
        return .disarm
    }

    /// The body of the latest request was read to its end.
    mutating func bodyEnded() -> Action {
        guard readingBody else { return .none }
        readingBody = false
        generation += 1
        return .disarm
    }

    /// A response was written in full and the connection stays open.
    mutating func responseEnded() -> Action {
        guard case .answering(let n) = phase else { return .none }
        if n > 1 {
            phase = .answering(requests: n - 1)
            return .none
        }
        phase = .idle
        readingBody = false
        return arm(.idleTimeout, limits.idleTimeout)
    }

    /// The idle timer fired while the last response was still being written (a slow reader):
    /// the connection is not idle yet; wait another idle timeout.
    mutating func stillSending() -> Action {
        guard phase == .idle else { return .none }
        return arm(.idleTimeout, limits.idleTimeout)
    }

    /// The server drains (its listener is closed): what to do with this connection.
    mutating func drain() -> Drain {
        switch phase {
        case .answering: return .passOn
        case .awaitingHead(partial: true):
            drainOnHead = true
            return .afterHead
        case .awaitingHead(partial: false), .idle: return .closeNow
        }
    }

    /// The timer armed with `generation` fired.
    func fired(generation: Int) -> Action {
        guard generation == self.generation else { return .none }
        switch phase {
        case .awaitingHead: return .close(.headerTimeout)
        case .idle: return .close(.idleTimeout)
        case .answering: return readingBody ? .close(.bodyTimeout) : .none
        }
    }

    private mutating func arm(_ reason: ConnectionCloseReason, _ after: TimeAmount) -> Action {
        generation += 1
        return .arm(reason, after: after, generation: generation)
    }
}
