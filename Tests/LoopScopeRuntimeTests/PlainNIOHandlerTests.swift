import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing
@testable import LoopScopeAgent
import LoopScopeDemo
import LoopScopeNIO
import LoopScopeWire

/// A plain SwiftNIO HTTP server as people write one: the work in `channelRead`, on the loop.
enum PlainNIOFixtures {
    @inline(never)
    static func burnInChannelRead(milliseconds ms: Int) -> UInt64 {
        let end = DispatchTime.now().uptimeNanoseconds + UInt64(ms) * 1_000_000
        var x: UInt64 = 7
        while DispatchTime.now().uptimeNanoseconds < end { x = x &* 6364136223846793005 &+ 1 }
        return x
    }

    /// Answers `/hello` at once, `/burn` after 30 ms (`?ms=N`: N) of CPU on the loop, `/later` 20 ms later
    /// (a scheduled task: the loop is free meanwhile), `/items/N` at once, `/upload` once its body
    /// is read (with its size); 404 otherwise.
    final class AppHandler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        private var uploaded: Int?

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head: break
            case .body(let chunk):
                uploaded? += chunk.readableBytes
                return
            case .end:
                if let n = uploaded { respond(context, .ok, "\(n) bytes\n") }
                uploaded = nil
                return
            }
            guard case .head(let head) = unwrapInboundIn(data) else { return }
            let path = head.uri.split(separator: "?").first.map(String.init) ?? head.uri
            switch path {
            case "/upload": uploaded = 0
            case "/burn":
                let ms = head.uri.split(separator: "=").last.flatMap { Int($0) } ?? 30
                respond(context, .ok, "\(PlainNIOFixtures.burnInChannelRead(milliseconds: ms))\n")
            case "/later":
                let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                context.eventLoop.scheduleTask(in: .milliseconds(20)) {
                    let (handler, context) = loopBound.value
                    handler.respond(context, .ok, "later\n")
                }
            case "/hello": respond(context, .ok, "hello\n")
            default:
                if path.hasPrefix("/items/") { respond(context, .ok, "item\n") } else { respond(context, .notFound, "no\n") }
            }
        }

        func respond(_ context: ChannelHandlerContext, _ status: HTTPResponseStatus, _ text: String) {
            var headers = HTTPHeaders()
            headers.add(name: "content-length", value: String(text.utf8.count))
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }

    /// The route templates of the app above.
    static func template(_ head: HTTPRequestHead) -> String? {
        let path = head.uri.split(separator: "?").first.map(String.init) ?? head.uri
        if ["/hello", "/burn", "/later", "/upload"].contains(path) { return path }
        return path.hasPrefix("/items/") ? "/items/{id}" : nil
    }
}

/// The app above with the agent and `LoopScopeHTTPHandler` on a one-loop group; stopped, all of
/// it, before this returns.
func withPlainNIOServer(_ body: (LoopScopeAgent, HTTPClientConnection, _ connect: () async throws -> HTTPClientConnection) async throws -> Void) async throws {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let clients = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    var config = AgentConfiguration(name: "plain-nio-test")
    config.control = nil
    var failure: (any Error)? = nil
    var agent: LoopScopeAgent? = nil
    var server: (any Channel)? = nil
    do {
        let started = try await LoopScopeAgent.start(config, watching: group)
        agent = started
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(LoopScopeHTTPHandler(agent: started, route: PlainNIOFixtures.template))
                    try channel.pipeline.syncOperations.addHandler(PlainNIOFixtures.AppHandler())
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        server = channel
        let port = try #require(channel.localAddress?.port)
        let c = try await HTTPClientConnection.connect(host: "127.0.0.1", port: port, group: clients).get()
        defer { c.close() }
        try await body(started, c, { try await HTTPClientConnection.connect(host: "127.0.0.1", port: port, group: clients).get() })
    } catch {
        failure = error
    }
    try? await server?.close()
    await agent?.stop()
    try? await clients.shutdownGracefully()
    try? await group.shutdownGracefully()
    if let failure { throw failure }
}

@Suite(.serialized) struct PlainNIOHandlerTests {
    @Test func aPlainNIOServerIsRecordedByTemplateWithItsLoopHoldsAndIO() async throws {
        try await withPlainNIOServer { agent, c, _ in
            for path in ["/hello", "/items/7", "/items/8", "/nothing/here", "/later", "/burn", "/burn", "/burn"] {
                _ = try await c.get(path).get()
            }
            agent.core.rollover()
            let s = agent.snapshot()
            #expect(Set(s.routes.map(\.path)) == ["/hello", "/items/{id}", "NotFound", "/later", "/burn"], "\(s.routes.map(\.path))")
            #expect(s.route("/items/{id}")?.requests == 2)
            #expect(s.route("NotFound")?.status.s4xx == 1)
            let burn = try #require(s.route("/burn"))
            #expect(burn.model == .loop)
            // Held compute: `cpu` when the thread got a CPU throughout; on a loaded machine its
            // CPU time falls behind its wall time and it may read `blocking`, never `io`.
            #expect(burn.workClass == .cpu || burn.workClass == .blocking, "\(burn.workClass)")
            #expect(burn.held.count == 3)
            #expect(burn.split.computeMicros >= 25_000, "\(burn.split)")
            #expect(s.loops[0].culprit == "/burn")
            let later = try #require(s.route("/later"))
            #expect(later.split.ioMicros >= 15_000, "\(later.split)")
            #expect(later.held.count == 0, "the loop was free while /later waited")
            #expect(later.workClass == .io, "\(later.workClass)")
        }
    }

    @Test func theFunctionStallingThePlainNIOLoopIsItsStallSiteUnderItsRoute() async throws {
        try await withPlainNIOServer { agent, c, _ in
            _ = try await c.get("/burn?ms=80").get()
            _ = try await c.get("/burn?ms=80").get()
            let site = agent.snapshot().stallSites(of: "/burn").first?.site
            #expect(site?.function.contains("burnInChannelRead") == true, "\(String(describing: site))")
        }
    }

    @Test func aRequestWaitingBehindABusyLoopCountsThatWaitInItsLatency() async throws {
        try await withPlainNIOServer { agent, c, connect in
            _ = try await c.get("/burn?ms=10").get()   // the loop is seen busy: loop wait is read
            let other = try await connect()
            defer { other.close() }
            let burn = c.get("/burn?ms=80")
            // Once /burn holds the loop, /hello's bytes wait in the kernel until it is done.
            #expect(waitUntil(seconds: 5) { agent.core.board.onLoop(0) != nil })
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = try await other.get("/hello").get()
            let clientMicros = (DispatchTime.now().uptimeNanoseconds - t0) / 1000
            _ = try await burn.get()
            agent.core.rollover()
            let hello = try #require(agent.snapshot().route("/hello"))
            #expect(clientMicros >= 40_000, "the client waited \(clientMicros) µs")
            // The server's figure includes the wait: without it /hello reads about 0.1 ms. (Not
            // all of the client's time: the client's own thread waits for a CPU too.)
            #expect(hello.latency.last1s.max >= clientMicros / 2, "server \(hello.latency.last1s.max) µs, client \(clientMicros) µs")
            #expect(hello.latency.last1s.max <= clientMicros + 8_000, "never more than the client waited (to two of the kernel's clock ticks, as jiffies lag)")
            #expect(hello.split.loopWaitMicros >= 20_000, "\(hello.split)")
        }
    }
}
