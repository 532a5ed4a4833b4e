import NIOCore

/// The upstream stub: answers every request after a delay, without blocking its event loop.
/// `?delay_ms=` overrides the delay per request (0...10000).
public final class UpstreamServer: Sendable {
    private let server: SmallHTTPServer
    public var port: Int { server.port }

    private init(server: SmallHTTPServer) { self.server = server }

    public static func start(host: String = "127.0.0.1", port: Int, delayMs: Int, group: any EventLoopGroup) async throws -> UpstreamServer {
        let server = try await SmallHTTPServer.start(host: host, port: port, group: group) { head, loop in
            var delay = delayMs
            if let q = head.uri.split(separator: "?").dropFirst().first {
                for pair in q.split(separator: "&") where pair.hasPrefix("delay_ms=") {
                    if let v = Int(pair.dropFirst(9)), (0...10_000).contains(v) { delay = v }
                }
            }
            let body = "upstream \(head.uri) after \(delay) ms\n"
            return loop.scheduleTask(in: .milliseconds(Int64(delay))) { SmallHTTPServer.Response(body: body) }.futureResult
        }
        return UpstreamServer(server: server)
    }

    public func stop() async { await server.stop() }
}
