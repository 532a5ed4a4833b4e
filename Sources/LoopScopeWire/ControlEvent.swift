/// A change to the server's configuration or to a pool's workers, kept in a bounded log.
public struct ControlEvent: Codable, Sendable, Equatable, PublicMemberwiseInit {
    /// Increases by one for every event; lets a reader ask for events after the last it saw.
    public var sequence: UInt64
    /// Seconds since the Unix epoch.
    public var time: Double
    public var kind: Kind
    /// What changed: a route template or a pool name.
    public var subject: String
    public var old: String
    public var new: String
    /// Who asked: `pid 123 uid 1000`, `runtime`, or `autopilot`.
    public var actor: String

    public enum Kind: String, Codable, Sendable {
        case route, resize, limit, workerDied, workerStarted, stall, stallThreshold
        /// A pool job ran past its timeout: `old` the job, `new` what was done to its worker.
        case jobTimedOut
    }

    /// One line for logs and status bars: `route /hash loop → threads`.
    public var summary: String { "\(kind.rawValue) \(subject) \(old) → \(new)" }

    private init(_ generated: Never) { switch generated {} }
}
