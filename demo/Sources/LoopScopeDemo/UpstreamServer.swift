import NIOCore
import NIOPosix
import NIOHTTP1

/// The upstream stub: answers every request after a delay, without blocking its event loop.
/// `?delay_ms=` overrides the delay per request (0...10000).
public final class UpstreamServer: Sendable {
    public let channel: any Channel
    public var port: Int { channel.localAddress?.port ?? 0 }

    private init(channel: any Channel) { self.channel = channel }

    public static func start(host: String = "127.0.0.1", port: Int, delayMs: Int, group: any EventLoopGroup) async throws -> UpstreamServer {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 1024)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(DelayHandler(delayMs: delayMs))
                }
            }
            .bind(host: host, port: port).get()
        return UpstreamServer(channel: channel)
    }

    public func stop() async { try? await channel.close() }
}

private final class DelayHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    let delayMs: Int
    private var head: HTTPRequestHead?

    init(delayMs: Int) { self.delayMs = delayMs }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h): head = h
        case .body: break
        case .end:
            guard let head else { return }
            var delay = delayMs
            if let q = head.uri.split(separator: "?").dropFirst().first {
                for pair in q.split(separator: "&") where pair.hasPrefix("delay_ms=") {
                    if let v = Int(pair.dropFirst(9)), (0...10_000).contains(v) { delay = v }
                }
            }
            let body = "upstream \(head.uri) after \(delay) ms\n"
            let keepAlive = head.isKeepAlive
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: .milliseconds(Int64(delay))) {
                let (handler, context) = bound.value
                handler.respond(context: context, body: body, keepAlive: keepAlive)
            }
        }
    }

    private func respond(context: ChannelHandlerContext, body: String, keepAlive: Bool) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "text/plain")
        headers.add(name: "content-length", value: String(body.utf8.count))
        if !keepAlive { headers.add(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in if !keepAlive { channel.close(promise: nil) } }
    }
}
