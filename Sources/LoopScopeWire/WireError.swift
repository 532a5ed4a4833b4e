/// The one error type of the wire module: a code a program can branch on and a message a person can act on.
public struct WireError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: Code
    public var message: String

    /// Error codes, as they appear in `error.code` on the wire.
    public enum Code: String, Sendable, Codable, CaseIterable {
        case invalidJSON = "invalid_json"
        case badRequest = "bad_request"
        case unknownOp = "unknown_op"
        case handshakeRequired = "handshake_required"
        case unsupportedVersion = "unsupported_version"
        case lineTooLong = "line_too_long"
        case unknownRoute = "unknown_route"
        case unknownPool = "unknown_pool"
        case unknownDiagnosis = "unknown_diagnosis"
        case outOfRange = "out_of_range"
        case forbidden = "forbidden"
        case notSubscribed = "not_subscribed"
        case tooManyConnections = "too_many_connections"
        case unavailable = "unavailable"
        case internalError = "internal"
    }

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
