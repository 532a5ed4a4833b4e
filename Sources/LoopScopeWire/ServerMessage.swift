/// One line from the server: the greeting, a reply to a request, or a streamed snapshot frame.
///
/// Which fields are present says which it is: `greeting`; `id` with `ok`; or `frame`.
public struct ServerMessage: Codable, Sendable, Equatable, PublicMemberwiseInit {
    /// Sent once, on connect.
    public var greeting: Greeting?
    /// Echoes the request's id (null when the request had none or could not be parsed).
    public var id: Int?
    /// Present on replies: whether the request succeeded.
    public var ok: Bool?
    public var result: ReplyResult?
    public var error: ErrorBody?
    /// Present on streamed frames.
    public var frame: Frame?
    /// Present instead of a frame whose figures are the previous frame's (subscriptions with
    /// `skipUnchanged`).
    public var unchanged: UnchangedFrame?

    /// A successful reply.
    public static func success(id: Int?, _ result: ReplyResult) -> ServerMessage {
        ServerMessage(id: id, ok: true, result: result)
    }

    /// A failed reply.
    public static func failure(id: Int?, _ error: WireError) -> ServerMessage {
        ServerMessage(id: id, ok: false, error: ErrorBody(code: error.code.rawValue, message: error.message))
    }

    private init(_ generated: Never) { switch generated {} }
}

/// The first line a server sends on every connection.
public struct Greeting: Codable, Sendable, Equatable {
    /// Always `loopscope`.
    public var `protocol`: String
    public var versions: [Int]
    public var server: String
    public var pid: Int32
    /// Whether this connection may only read (no commands).
    public var readOnly: Bool

    public init(server: String, pid: Int32, readOnly: Bool, versions: [Int] = ProtocolVersion.supported) {
        self.protocol = "loopscope"
        self.versions = versions
        self.server = server
        self.pid = pid
        self.readOnly = readOnly
    }
}

/// What a successful reply carries; which fields are set depends on the operation.
public struct ReplyResult: Codable, Sendable, Equatable {
    /// `hello`: the version chosen.
    public var version: Int?
    /// Human-readable outcome of a command.
    public var message: String?
    public var snapshot: Snapshot?
    /// `subscribe`: the subscription's number, as it appears on frames.
    public var subscription: Int?
    public var events: [ControlEvent]?
    /// Commands that change something: the event they caused.
    public var event: ControlEvent?

    // The replies there are, each worded here once (docs/PROTOCOL.md shows them).

    /// `hello`: the version both sides speak.
    public static func negotiated(version: Int) -> ReplyResult {
        ReplyResult(version: version, message: "protocol version \(version)")
    }

    /// `subscribe`: frames of subscription `id` follow every `intervalMs`.
    public static func subscribed(_ id: Int, intervalMs: Int) -> ReplyResult {
        ReplyResult(message: "streaming every \(intervalMs) ms", subscription: id)
    }

    /// `unsubscribe`: subscription `id` ended, having lost `dropped` frames to a slow reader.
    public static func unsubscribed(_ id: Int, dropped: UInt64) -> ReplyResult {
        ReplyResult(message: "subscription \(id) stopped after \(dropped) dropped frames", subscription: id)
    }

    /// A command that changed something: the event it caused.
    public static func changed(_ event: ControlEvent) -> ReplyResult {
        ReplyResult(message: event.summary, event: event)
    }

    /// `events`: the events asked for.
    public static func events(_ events: [ControlEvent]) -> ReplyResult {
        ReplyResult(events: events)
    }
}

/// The body of a failed reply.
/// Only this module builds one (`ServerMessage.failure`); clients decode it.
public struct ErrorBody: Codable, Sendable, Equatable {
    public var code: String
    public var message: String
}

/// A snapshot pushed to a subscriber. Built by this module (`UnchangedFrame.applied(to:)`) and
/// decoded by clients.
public struct Frame: Codable, Sendable, Equatable {
    public var subscription: Int
    /// Frames this subscriber has lost so far because it read too slowly.
    public var dropped: UInt64
    public var snapshot: Snapshot
}

/// A frame whose figures are those of the previous frame sent on its subscription: only what
/// moves with every snapshot (its sequence, time, the server's uptime and its own cost) is
/// sent. An idle server's figures move once a second, when its statistics roll over, so a
/// dashboard at 10 Hz decodes one snapshot a second instead of ten. This type says which
/// fields those are: `content(of:)` leaves them out, `applied(to:)` puts them back.
public struct UnchangedFrame: Codable, Sendable, Equatable {
    public var subscription: Int
    public var dropped: UInt64
    public var sequence: UInt64
    public var time: Double
    public var uptimeSeconds: Double
    public var selfCost: SelfCost

    public init(subscription: Int, dropped: UInt64, of snapshot: Snapshot) {
        self.subscription = subscription
        self.dropped = dropped
        self.sequence = snapshot.sequence
        self.time = snapshot.time
        self.uptimeSeconds = snapshot.server.uptimeSeconds
        self.selfCost = snapshot.selfCost
    }

    /// The previous frame's snapshot with this one's moving fields: the frame the server
    /// would have sent.
    public func applied(to previous: Snapshot) -> Frame {
        var s = previous
        s.sequence = sequence
        s.time = time
        s.server.uptimeSeconds = uptimeSeconds
        s.selfCost = selfCost
        return Frame(subscription: subscription, dropped: dropped, snapshot: s)
    }

    /// A snapshot without the fields that move with every snapshot: two snapshots whose
    /// contents are equal differ only in what an `UnchangedFrame` carries.
    public static func content(of snapshot: Snapshot) -> Snapshot {
        var s = snapshot
        s.sequence = 0
        s.time = 0
        s.server.uptimeSeconds = 0
        s.selfCost = SelfCost()
        return s
    }
}
