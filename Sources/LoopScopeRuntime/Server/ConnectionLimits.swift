#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// How long and how many HTTP connections a server holds, so that clients that send slowly
/// or not at all cannot hold it (as uvicorn's `--timeout-keep-alive` and nginx's
/// `client_header_timeout` do). The defaults and ranges are defined here once; the server's
/// configuration and `loopscope serve`'s flags use them.
public struct ConnectionLimits: Sendable, Equatable {
    /// A request head (request line and headers) must be complete within this, counted from
    /// the connection's accept for its first request and from the first byte of each later
    /// one; otherwise the connection is closed.
    public var headerTimeout: TimeAmount = .seconds(10)
    /// A keep-alive connection with no request begun this long after its last response is
    /// closed.
    public var idleTimeout: TimeAmount = .seconds(5)
    /// A request body must keep arriving: a connection with no byte of its body within this
    /// of the previous one (or of the head) is closed (nginx's `client_body_timeout`).
    public var bodyTimeout: TimeAmount = .seconds(10)
    /// Connections served at once. A connection accepted over it is answered 503 with
    /// `Retry-After`, its output closed at once, and it is closed when the client closes or
    /// after `lingerTimeout`, without its request being read. Defaults to
    /// `defaultMaxConnections()`.
    public var maxConnections: Int = ConnectionLimits.defaultMaxConnections()

    /// 10 000, or fewer when the process may not open that many files: the soft
    /// `RLIMIT_NOFILE` less `reservedDescriptors` for everything else (listening and control
    /// sockets, pipes to worker processes, files). Over it, `accept` would fail with `EMFILE`
    /// instead of the client getting a 503.
    public static func defaultMaxConnections(fileLimit: UInt64? = nil) -> Int {
        var limit = rlimit()
        let soft = fileLimit ?? (getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 ? UInt64(limit.rlim_cur) : UInt64.max)
        let room = soft > UInt64(reservedDescriptors) ? soft - UInt64(reservedDescriptors) : 1
        return Int(min(10_000, max(1, room)))
    }

    /// Descriptors kept for everything but HTTP connections when the default is derived from
    /// the file limit.
    public static let reservedDescriptors = 128

    /// After a response that ends a connection early (503 over the limit, 413 on the head), how
    /// long the server keeps reading and discarding what the client still sends before closing:
    /// closing a socket with unread input resets it, and the client could lose the response.
    public static let lingerTimeout: TimeAmount = .seconds(2)

    /// The timeouts, milliseconds: 1 ms to an hour.
    public static let timeoutMillisRange = 1...3_600_000
    /// `maxConnections`.
    public static let maxConnectionsRange = 1...1_000_000

    public init() {}

    /// Throws for limits no server can run with.
    public func validate() throws(RuntimeError) {
        for (name, t) in [("header timeout", headerTimeout), ("idle timeout", idleTimeout), ("body timeout", bodyTimeout)] {
            let ms = Int(t.nanoseconds / 1_000_000)
            guard Self.timeoutMillisRange.contains(ms) else {
                throw .invalidConfiguration("\(name) must be \(Self.timeoutMillisRange.lowerBound)...\(Self.timeoutMillisRange.upperBound) ms, got \(ms) ms")
            }
        }
        guard Self.maxConnectionsRange.contains(maxConnections) else {
            throw .invalidConfiguration("max connections must be \(Self.maxConnectionsRange.lowerBound)...\(Self.maxConnectionsRange.upperBound), got \(maxConnections)")
        }
    }
}
