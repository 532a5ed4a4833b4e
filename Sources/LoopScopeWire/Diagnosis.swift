/// A problem the runtime sees in its own figures, with the evidence and a fix the control socket can apply.
public struct Diagnosis: Codable, Sendable, Equatable, PublicMemberwiseInit {
    /// Stable while the problem lasts, e.g. `cpu-on-loop:/hash`; the argument of the `fix` command.
    public var id: String
    public var severity: Severity
    /// One sentence: what is wrong.
    public var summary: String
    /// The figures that show it.
    public var evidence: [String]
    /// What would fix it, if the runtime can do it.
    public var action: Action?

    public enum Severity: String, Codable, Sendable, Comparable {
        case info, warning, critical

        var rank: Int {
            switch self {
            case .info: return 0
            case .warning: return 1
            case .critical: return 2
            }
        }

        public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
    }

    private init(_ generated: Never) { switch generated {} }
}

/// A change the control socket can make.
public enum Action: Codable, Sendable, Equatable {
    /// Run the route's compute stage under another model.
    case reroute(route: String, model: ExecutionModel)
    /// Set a pool's size.
    case resize(pool: String, size: Int)
    /// Set a pool's queue limit.
    case limit(pool: String, limit: Int)

    /// A short imperative, e.g. `move /hash to threads`.
    public var summary: String {
        switch self {
        case .reroute(let route, let model): return "move \(route) to \(model.rawValue)"
        case .resize(let pool, let size): return "resize \(pool) to \(size)"
        case .limit(let pool, let limit): return "set \(pool) queue limit to \(limit)"
        }
    }
}
