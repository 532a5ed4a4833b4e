import NIOCore
import NIOHTTP1
import NIOPosix
import LoopScopeClient
import LoopScopeWire

/// `serve --workers N --metrics-port P`: the supervisor's Prometheus endpoint for the whole
/// group. Through the shared port a scrape reaches one worker at a time (each worker's series
/// would come and go); here every scrape asks each worker's control socket for its snapshot at
/// once (each call bounded) and answers all of them in one exposition, each series labelled
/// with its `worker`, plus `loopscope_worker_up` (0 for a worker that did not answer in time:
/// restarting, or stuck).
final class GroupMetricsServer: Sendable {
    let channel: any Channel
    var port: Int { channel.localAddress?.port ?? 0 }

    private init(channel: any Channel) { self.channel = channel }

    /// How long a scrape waits for one worker's snapshot.
    static let workerTimeout: Duration = .seconds(2)

    static func start(host: String, port: Int, group: String, directory: String, workers: Int, serverName: String) async throws -> GroupMetricsServer {
        let scrape: @Sendable () async -> String = { await Self.scrape(group: group, directory: directory, workers: workers, serverName: serverName) }
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(MetricsHandler(scrape: scrape))
                }
            }
            .bind(host: host, port: port).get()
        return GroupMetricsServer(channel: channel)
    }

    func stop() async { try? await channel.close() }

    /// Every worker's series, in one exposition.
    static func scrape(group: String, directory: String, workers: Int, serverName: String) async -> String {
        let members = (try? ServerLocator.members(of: group, directory: directory)) ?? []
        let outcomes = await FanOut.run(members.indices.map { $0 }) { i in
            let client = try await ControlClient.connect(path: members[i].socket, client: "loopscope metrics", timeout: workerTimeout)
            defer { Task { await client.close() } }
            return try await client.snapshot()
        }
        let snapshots = outcomes.compactMap { try? $0.result.get() }
        let answered = Set(snapshots.compactMap { $0.server.member?.worker })
        return PrometheusText.render(snapshots, workersUp: (0..<workers).map { (serverName, $0, answered.contains($0)) })
    }
}

private final class MetricsHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    private let scrape: @Sendable () async -> String
    private var head: HTTPRequestHead?

    init(scrape: @escaping @Sendable () async -> String) { self.scrape = scrape }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h): head = h
        case .body: break
        case .end:
            guard let head else { return }
            let keepAlive = head.isKeepAlive
            guard head.method == .GET, head.uri.split(separator: "?").first == "/metrics" else {
                respond(context: context, status: .notFound, body: "only GET /metrics is served here\n", contentType: "text/plain", keepAlive: keepAlive)
                return
            }
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let promise = context.eventLoop.makePromise(of: String.self)
            promise.completeWithTask { [scrape] in await scrape() }
            promise.futureResult.whenSuccess { text in
                let (handler, context) = bound.value
                handler.respond(context: context, status: .ok, body: text, contentType: "text/plain; version=0.0.4; charset=utf-8", keepAlive: keepAlive)
            }
        }
    }

    private func respond(context: ChannelHandlerContext, status: HTTPResponseStatus, body: String, contentType: String, keepAlive: Bool) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: contentType)
        headers.add(name: "content-length", value: String(body.utf8.count))
        if !keepAlive { headers.add(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in if !keepAlive { channel.close(promise: nil) } }
    }
}
