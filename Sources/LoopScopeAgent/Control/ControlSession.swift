import LoopScopeWire

/// The protocol state of one control connection. Pure: it decides, the handler does the I/O.
package struct ControlSession {
    /// Whether the connection may change the server.
    package let readOnly: Bool
    private(set) var version: Int?
    private(set) var subscription: (id: Int, intervalMs: Int, skipUnchanged: Bool)?
    private(set) var dropped: UInt64 = 0
    /// The content generation (`SnapshotCache`) of the last full frame sent on the subscription.
    private var lastSentGeneration: UInt64?
    private var nextSubscription = 1

    package init(readOnly: Bool) {
        self.readOnly = readOnly
    }

    /// What the handler should do for a command that passed `admit`.
    package enum Decision: Equatable {
        case reply(ReplyResult)
        case startStream(id: Int, intervalMs: Int, reply: ReplyResult)
        case stopStream(ReplyResult)
        /// Needs the runtime (snapshot, changes, events).
        case execute(Command)
    }

    /// Checks a command against the session's state and returns what to do.
    package mutating func admit(_ command: Command) throws(WireError) -> Decision {
        if case .hello(let versions, _) = command {
            guard let v = ProtocolVersion.negotiate(offered: versions) else {
                throw WireError(.unsupportedVersion, "no common protocol version: you offered \(versions), this server speaks \(ProtocolVersion.supported)")
            }
            version = v
            return .reply(.negotiated(version: v))
        }
        guard version != nil else {
            throw WireError(.handshakeRequired, #"send {"op":"hello","versions":[1]} first"#)
        }
        if command.mutates && readOnly {
            throw WireError(.forbidden, "this connection is read-only (group access); commands that change the server are refused")
        }
        switch command {
        case .subscribe(let ms, let skipUnchanged):
            let id = subscription?.id ?? nextSubscription
            if subscription == nil { nextSubscription += 1 }
            subscription = (id, ms, skipUnchanged)
            lastSentGeneration = nil
            return .startStream(id: id, intervalMs: ms, reply: .subscribed(id, intervalMs: ms))
        case .unsubscribe:
            guard let s = subscription else { throw WireError(.notSubscribed, "there is no subscription to stop") }
            subscription = nil
            return .stopStream(.unsubscribed(s.id, dropped: dropped))
        default:
            return .execute(command)
        }
    }

    /// Counts a frame not sent because the client reads too slowly.
    package mutating func frameDropped() { dropped += 1 }

    /// Whether the next frame, of a snapshot whose content has `generation`, goes out whole
    /// (true) or as an `unchanged` line: whole unless the subscription asked to skip unchanged
    /// frames and the last whole frame it got had the same content.
    package mutating func sendsWholeFrame(generation: UInt64) -> Bool {
        guard subscription?.skipUnchanged == true, lastSentGeneration == generation else {
            lastSentGeneration = generation
            return true
        }
        return false
    }
}
