import NIOCore
import NIOPosix
import NIOHTTP1

/// One keep-alive HTTP/1.1 client connection; requests may be pipelined. Thread-safe.
public final class HTTPClientConnection: Sendable {
    /// A response: status and body.
    public struct Response: Sendable {
        public var status: Int
        public var headers: HTTPHeaders
        public var body: ByteBuffer
    }

    public let channel: any Channel
    private let host: String

    /// The connection closed or was reset (by the server, or the network) before a request's
    /// response: the request may or may not have reached the server.
    public struct Closed: Error, CustomStringConvertible {
        public var description: String { "the connection closed before the response" }
    }

    private init(channel: any Channel, host: String) {
        self.channel = channel
        self.host = host
    }

    /// Connects to `host:port` on a loop of `group`.
    public static func connect(host: String, port: Int, group: any EventLoopGroup) -> EventLoopFuture<HTTPClientConnection> {
        ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseHandler())
                }
            }
            .connect(host: host, port: port)
            .map { HTTPClientConnection(channel: $0, host: host) }
    }

    /// Sends `GET path`; the future completes with the response, or fails with `Closed` if the
    /// connection closes first (also when it was closed before the request could be written).
    public func get(_ path: String) -> EventLoopFuture<Response> { send(.GET, path) }

    /// Sends `method path` with `body` (with its content-length when it has one); completes as `get`.
    public func send(_ method: HTTPMethod, _ path: String, body: [UInt8]? = nil) -> EventLoopFuture<Response> {
        let promise = channel.eventLoop.makePromise(of: Response.self)
        var headers = HTTPHeaders()
        headers.add(name: "host", value: host)
        if let body { headers.add(name: "content-length", value: String(body.count)) }
        let head = HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: headers)
        let written = channel.eventLoop.makePromise(of: Void.self)
        // A write to a closed channel never reaches the handler that holds the response promise.
        written.futureResult.whenFailure { _ in promise.fail(Closed()) }
        channel.writeAndFlush(ResponseHandler.Outbound(head: head, body: body.map { ByteBuffer(bytes: $0) }, promise: promise), promise: written)
        return promise.futureResult
    }

    public var isActive: Bool { channel.isActive }

    public func close() { channel.close(promise: nil) }
}

/// Matches responses to requests in order and fails pending ones when the connection closes.
private final class ResponseHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = Outbound
    typealias OutboundOut = HTTPClientRequestPart

    struct Outbound {
        var head: HTTPRequestHead
        var body: ByteBuffer?
        var promise: EventLoopPromise<HTTPClientConnection.Response>
    }

    private var pending = CircularBuffer<EventLoopPromise<HTTPClientConnection.Response>>()
    private var status = 0
    private var headers = HTTPHeaders()
    private var body: ByteBuffer?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        pending.append(request.promise)
        context.write(wrapOutboundOut(.head(request.head)), promise: nil)
        if let body = request.body, body.readableBytes > 0 { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        context.write(wrapOutboundOut(.end(nil)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            status = Int(h.status.code)
            headers = h.headers
            body = nil
        case .body(var b):
            if body == nil { body = b } else { body!.writeBuffer(&b) }
        case .end:
            let response = HTTPClientConnection.Response(status: status, headers: headers, body: body ?? context.channel.allocator.buffer(capacity: 0))
            pending.popFirst()?.succeed(response)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        while let p = pending.popFirst() { p.fail(HTTPClientConnection.Closed()) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A reset is the server closing the connection as a request reached it (its idle
        // timeout racing the write): the request was not answered, as when it closes cleanly.
        let reset = (error as? IOError).map { $0.errnoCode == ECONNRESET || $0.errnoCode == EPIPE } ?? false
        while let p = pending.popFirst() { p.fail(reset ? HTTPClientConnection.Closed() : error) }
        context.close(promise: nil)
    }
}
