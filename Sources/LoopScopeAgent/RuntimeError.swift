/// The one public error type of the runtime, with messages a user can act on.
public enum RuntimeError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidRoute(String)
    case duplicateRoute(String)
    case spawnFailed(String)
    case socket(String)
    case invalidConfiguration(String)
    /// The HTTP port could not be bound (in use, not permitted, no such address).
    case listen(String)

    public var description: String {
        switch self {
        case .invalidRoute(let m): return "invalid route: \(m)"
        case .duplicateRoute(let m): return "duplicate route: \(m)"
        case .spawnFailed(let m): return "could not start a worker process: \(m)"
        case .socket(let m): return "control socket: \(m)"
        case .invalidConfiguration(let m): return "invalid configuration: \(m)"
        case .listen(let m): return "cannot listen: \(m)"
        }
    }
}
