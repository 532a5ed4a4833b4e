import NIOCore
import NIOPosix
import LoopScopeAgent

/// Calls the upstream stub over a bounded pool of keep-alive connections (`pool`, named
/// `upstream`: register it with the agent or server to see and resize it), without blocking a
/// thread: callers `await`, first for a connection, then for the answer. Every call has a
/// timeout. Thread-safe.
public final class UpstreamClient: Sendable {
    public let host: String
    public let port: Int
    /// The connections; callers beyond its size wait for one (up to the call's timeout).
    public let pool: ConnectionPool<HTTPClientConnection>
    /// How long a call may take, the wait for a connection included.
    public let callTimeout: TimeAmount

    public init(host: String = "127.0.0.1", port: Int, group: any EventLoopGroup, connections: Int = 16, callTimeout: TimeAmount = .seconds(5)) {
        self.host = host
        self.port = port
        self.callTimeout = callTimeout
        self.pool = ConnectionPool(
            name: "upstream", size: connections, timeout: .nanoseconds(callTimeout.nanoseconds),
            open: { try await HTTPClientConnection.connect(host: host, port: port, group: group).get() },
            close: { $0.close() },
            isReusable: { $0.isActive }
        )
    }

    /// `GET path` on the upstream; throws `UpstreamError` on connection failure, a non-2xx
    /// status, or when the call (waiting for a connection included) runs past `callTimeout`.
    public func get(_ path: String) async throws -> [UInt8] {
        let start = NIODeadline.now()
        let deadline = start + callTimeout
        let response: HTTPClientConnection.Response
        do {
            response = try await pool.withConnection(timeout: .nanoseconds(callTimeout.nanoseconds)) { connection in
                let left = deadline - NIODeadline.now()
                guard left > .zero else { throw UpstreamError.timedOut(millis: Int(callTimeout.nanoseconds / 1_000_000)) }
                // Past the deadline the connection is closed, which fails the call.
                let timer = connection.channel.eventLoop.scheduleTask(in: left) { connection.close() }
                defer { timer.cancel() }
                do {
                    return try await connection.get(path).get()
                } catch {
                    connection.close()
                    if NIODeadline.now() >= deadline { throw UpstreamError.timedOut(millis: Int(callTimeout.nanoseconds / 1_000_000)) }
                    throw UpstreamError.unreachable("\(host):\(port): \(error)")
                }
            }
        } catch let e as ConnectionPoolError {
            switch e {
            case .timedOut: throw UpstreamError.timedOut(millis: Int(callTimeout.nanoseconds / 1_000_000))
            default: throw UpstreamError.unreachable("\(host):\(port): \(e)")
            }
        }
        guard (200..<300).contains(response.status) else { throw UpstreamError.status(response.status) }
        return Array(response.body.readableBytesView)
    }
}

/// Why an upstream call failed.
public enum UpstreamError: Error, Sendable, CustomStringConvertible, TimeoutReporting {
    case unreachable(String)
    case status(Int)
    /// The call (waiting for a connection included) ran past the client's timeout.
    case timedOut(millis: Int)

    public var timeoutReason: String? {
        if case .timedOut = self { return "upstream call" }
        return nil
    }

    public var description: String {
        switch self {
        case .unreachable(let m): return "upstream unreachable: \(m)"
        case .status(let s): return "upstream answered \(s)"
        case .timedOut(let ms): return "upstream call timed out after \(ms) ms"
        }
    }
}
