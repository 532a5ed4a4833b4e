import NIOCore
import NIOPosix
import NIOConcurrencyHelpers

/// Calls the upstream stub over a small pool of keep-alive connections, without blocking a
/// thread: callers `await`. Thread-safe.
public final class UpstreamClient: Sendable {
    public let host: String
    public let port: Int
    private let group: any EventLoopGroup
    private let idle = NIOLockedValueBox<[HTTPClientConnection]>([])
    /// Idle connections kept for reuse.
    private let maxIdle = 64

    public init(host: String = "127.0.0.1", port: Int, group: any EventLoopGroup) {
        self.host = host
        self.port = port
        self.group = group
    }

    /// `GET path` on the upstream; throws on connection failure or a non-2xx status.
    public func get(_ path: String) async throws -> [UInt8] {
        let connection: HTTPClientConnection
        if let reused = idle.withLockedValue({ stack -> HTTPClientConnection? in
            while let c = stack.popLast() { if c.isActive { return c } }
            return nil
        }) {
            connection = reused
        } else {
            connection = try await HTTPClientConnection.connect(host: host, port: port, group: group).get()
        }
        let response: HTTPClientConnection.Response
        do {
            response = try await connection.get(path).get()
        } catch {
            connection.close()
            throw UpstreamError.unreachable("\(host):\(port): \(error)")
        }
        let keep = idle.withLockedValue { stack -> Bool in
            guard stack.count < maxIdle else { return false }
            stack.append(connection)
            return true
        }
        if !keep { connection.close() }
        guard (200..<300).contains(response.status) else { throw UpstreamError.status(response.status) }
        return Array(response.body.readableBytesView)
    }
}

/// Why an upstream call failed.
public enum UpstreamError: Error, Sendable, CustomStringConvertible {
    case unreachable(String)
    case status(Int)

    public var description: String {
        switch self {
        case .unreachable(let m): return "upstream unreachable: \(m)"
        case .status(let s): return "upstream answered \(s)"
        }
    }
}
