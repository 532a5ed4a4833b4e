import Foundation
import NIOCore
import NIOPosix
import NIOHTTP1
import Testing
import LoopScopeAgent
import Logging
import ServiceLifecycle
import LoopScopeWire

/// A plain SwiftNIO HTTP server that knows nothing of LoopScope but one `start` call: its
/// handler burns CPU on the event loop for `/busy`.
private final class PlainHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    @inline(never)
    static func renderReportOnTheLoop(milliseconds ms: Int) -> UInt64 {
        let end = DispatchTime.now().uptimeNanoseconds + UInt64(ms) * 1_000_000
        var x: UInt64 = 7
        while DispatchTime.now().uptimeNanoseconds < end { x = x &* 2862933555777941757 &+ 3037000493 }
        return x
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = unwrapInboundIn(data) else { return }
        let body = head.uri == "/busy" ? "\(Self.renderReportOnTheLoop(milliseconds: 60))\n" : "hello\n"
        var headers = HTTPHeaders()
        headers.add(name: "content-length", value: String(body.utf8.count))
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}

@Suite(.serialized) struct AgentTests {
    @Test func aPlainNIOServerWithTheAgentShowsItsLoopsAndNamesWhatStallsThem() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let dir = NSTemporaryDirectory() + "loopscope-agent-\(UUID().uuidString.prefix(8))"
        var config = AgentConfiguration(name: "plain-nio")
        config.control = ControlConfiguration(directory: dir)
        let agent = try await LoopScopeAgent.start(config, watching: group)
        let server = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(PlainHandler())
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = server.localAddress!.port!
        for _ in 0..<3 {
            let c = try await HTTPClientConnectionForAgentTests.get(port: port, path: "/busy", group: group)
            #expect(c == 200)
        }
        let snapshot = agent.snapshot()
        let socket = agent.controlSocketPath
        try await server.close()
        await agent.stop()
        try await group.shutdownGracefully()
        try? FileManager.default.removeItem(atPath: dir)

        #expect(snapshot.server.name == "plain-nio")
        #expect(snapshot.loops.count == 2)
        let sites = snapshot.loops.flatMap(\.stallSites)
        #expect(sites.first?.function == "PlainHandler.renderReportOnTheLoop(milliseconds:)", "\(sites.map(\.function))")
        #expect(sites.first?.frames.contains("PlainHandler.channelRead(context:data:)") == true)
        #expect(socket?.hasPrefix(dir) == true)
        #expect(!FileManager.default.fileExists(atPath: socket ?? ""), "the socket is removed on stop")
    }
}

extension AgentTests {
    @Test func theAgentStopsWithItsServiceGroup() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let dir = NSTemporaryDirectory() + "loopscope-agent-\(UUID().uuidString.prefix(8))"
        var config = AgentConfiguration(name: "in-a-service-group")
        config.control = ControlConfiguration(directory: dir)
        let agent = try await LoopScopeAgent.start(config, watching: group)
        let socket = try #require(agent.controlSocketPath)
        #expect(FileManager.default.fileExists(atPath: socket))
        let services = ServiceGroup(services: [agent], logger: Logger(label: "test"))
        let running = Task { try await services.run() }
        await services.triggerGracefulShutdown()
        try await running.value
        #expect(!FileManager.default.fileExists(atPath: socket), "the agent stopped and removed its socket")
        try await group.shutdownGracefully()
        try? FileManager.default.removeItem(atPath: dir)
    }
}

/// One GET on a fresh connection (blocking, on a thread of its own); returns the status.
enum HTTPClientConnectionForAgentTests {
    static func get(port: Int, path: String, group: any EventLoopGroup) async throws -> Int {
        await withCheckedContinuation { c in
            Thread.detachNewThread {
                let text = rawHTTP(port: port, "GET \(path) HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n", timeoutSeconds: 5, untilClosed: false)
                c.resume(returning: Int(text.split(separator: " ").dropFirst().first ?? "") ?? 0)
            }
        }
    }
}
