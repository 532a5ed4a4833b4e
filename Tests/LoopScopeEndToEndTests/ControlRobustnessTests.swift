import Foundation
import Testing
import NIOCore
import NIOPosix
import LoopScopeClient
import LoopScopeWire

/// The control socket caps its connections; the client bounds every call in time and reports
/// what it cannot read.
@Suite(.serialized) struct ControlRobustnessTests {
    @Test func aControlConnectionOverTheCapGetsOneErrorLineAndIsClosed() async throws {
        let server = try ServerProcess(extra: ["--max-control-connections", "2"])
        defer { server.terminate() }
        let path = try #require(server.socketPath)
        var held = try [LineSocket(path: path), LineSocket(path: path)]
        for h in held { #expect(try h.readLine().contains("greeting")) }

        let over = try LineSocket(path: path)
        let line = try over.readLine()
        let message = try WireCodec().decodeServerMessage(Array(line.utf8))
        #expect(message.ok == false)
        #expect(message.error?.code == WireError.Code.tooManyConnections.rawValue)
        #expect(message.error?.message.contains("at most 2") == true, "\(line)")
        #expect(throws: (any Error).self) { try over.readLine() } // closed

        // A place freed is given to the next client.
        held.removeLast()
        var greeted = false
        let deadline = Date().addingTimeInterval(5)
        while !greeted, Date() < deadline {
            greeted = (try? LineSocket(path: path).readLine().contains("greeting")) ?? false
        }
        #expect(greeted)
        _ = held
    }

    @Test func connectTimesOutAgainstASocketThatNeverGreets() async throws {
        try await ScriptedControlServer.with(greeting: nil, answer: { _, _ in nil }) { path in
            let clock = ContinuousClock()
            let start = clock.now
            await #expect {
                _ = try await ControlClient.connect(path: path, timeout: .milliseconds(300))
            } throws: { error in
                guard case ClientError.timeout(let m) = error else { return false }
                return m.contains("no greeting")
            }
            #expect(clock.now - start < .seconds(3))
        }
    }

    @Test func aRequestTimesOutWhenTheServerNeverAnswersIt() async throws {
        try await ScriptedControlServer.with(answer: { id, op in op == "hello" ? [ScriptedControlServer.helloReply(id)] : nil }) { path in
            let client = try await ControlClient.connect(path: path, timeout: .milliseconds(300))
            let clock = ContinuousClock()
            let start = clock.now
            await #expect {
                _ = try await client.snapshot()
            } throws: { error in
                guard case ClientError.timeout(let m) = error else { return false }
                return m.contains("'snapshot'")
            }
            #expect(clock.now - start < .seconds(3))
            await client.close()
        }
    }

    @Test func aReplyTheClientCannotDecodeFailsItsRequestWithTheReason() async throws {
        // A snapshot of another schema: required fields missing.
        try await ScriptedControlServer.with(answer: { id, op in
            op == "hello" ? [ScriptedControlServer.helloReply(id)] : [#"{"id":\#(id),"ok":true,"result":{"snapshot":{"schema":99}}}"#]
        }) { path in
            let client = try await ControlClient.connect(path: path)
            await #expect {
                _ = try await client.snapshot()
            } throws: { error in
                guard case ClientError.undecodable = error else { return false }
                return true
            }
            await client.close()
        }
    }

    @Test func aFrameTheClientCannotDecodeEndsTheStreamWithTheReason() async throws {
        try await ScriptedControlServer.with(answer: { id, op in
            switch op {
            case "hello": return [ScriptedControlServer.helloReply(id)]
            case "subscribe": return [#"{"id":\#(id),"ok":true,"result":{"subscription":1}}"#, #"{"frame":{"subscription":1,"dropped":0,"snapshot":{"schema":99}}}"#]
            default: return nil
            }
        }) { path in
            let client = try await ControlClient.connect(path: path)
            let stream = try await client.subscribe(intervalMs: 100)
            var frames = 0
            for await _ in stream { frames += 1 }
            #expect(frames == 0)
            #expect(client.closedReason?.contains("cannot read") == true, "\(client.closedReason ?? "nil")")
        }
    }
}

/// A Unix socket server that greets (or not) and answers each request line with scripted
/// lines (or nothing), for testing the client against servers that misbehave.
enum ScriptedControlServer {
    typealias Answer = @Sendable (_ id: Int, _ op: String) -> [String]?

    static let greeting = #"{"greeting":{"protocol":"loopscope","versions":[1],"server":"scripted","pid":1,"readOnly":false}}"#
    static func helloReply(_ id: Int) -> String { #"{"id":\#(id),"ok":true,"result":{"version":1}}"# }

    /// Runs `body` with the socket's path; the server is closed before this returns.
    static func with(greeting: String? = ScriptedControlServer.greeting, answer: @escaping Answer, _ body: (String) async throws -> Void) async throws {
        let path = NSTemporaryDirectory() + "ls-scripted-\(UUID().uuidString.prefix(8)).sock"
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let channel = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Handler(greeting: greeting, answer: answer))
                }
            }
            .bind(unixDomainSocketPath: path).get()
        do {
            try await body(path)
        } catch {
            try? await channel.close()
            try? await group.shutdownGracefully()
            unlink(path)
            throw error
        }
        try? await channel.close()
        try? await group.shutdownGracefully()
        unlink(path)
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let greeting: String?
        let answer: Answer
        var pending: [UInt8] = []

        init(greeting: String?, answer: @escaping Answer) {
            self.greeting = greeting
            self.answer = answer
        }

        func channelActive(context: ChannelHandlerContext) {
            if let greeting { write(context, [greeting]) }
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            pending += Array(unwrapInboundIn(data).readableBytesView)
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(pending[..<newline])
                pending.removeSubrange(...newline)
                let object = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any]
                guard let id = object?["id"] as? Int, let op = object?["op"] as? String else { continue }
                if let lines = answer(id, op) { write(context, lines) }
            }
        }

        private func write(_ context: ChannelHandlerContext, _ lines: [String]) {
            let text = lines.map { $0 + "\n" }.joined()
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: text)), promise: nil)
        }
    }
}
