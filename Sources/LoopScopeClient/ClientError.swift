import LoopScopeWire

/// The one error type of the client module.
public enum ClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No server matched, or several did.
    case notFound(String)
    /// The socket could not be reached.
    case connect(String)
    /// The server answered with an error.
    case server(code: String, message: String)
    /// The connection closed or broke the protocol.
    case disconnected(String)
    /// The server did not answer in time.
    case timeout(String)
    /// The server sent a line this client cannot decode (e.g. a newer schema).
    case undecodable(String)

    public var description: String {
        switch self {
        case .notFound(let m): return m
        case .connect(let m): return "cannot connect: \(m)"
        case .server(let code, let message): return "server error \(code): \(message)"
        case .disconnected(let m): return "disconnected: \(m)"
        case .timeout(let m): return "timed out: \(m)"
        case .undecodable(let m): return "cannot read the server's answer: \(m)"
        }
    }
}
