import Testing
import NIOCore
import NIOEmbedded
import NIOHTTP1
@testable import LoopScopeRuntime
import LoopScopeWire

/// The connection's first handlers on an `EmbeddedChannel`: the timeouts fire on the embedded
/// loop's virtual clock, so a 10 s header timeout is tested without waiting 10 s and without a
/// socket (`ConnectionHardeningTests` does the same through a real server, end to end).
@Suite struct ConnectionGuardTests {
    /// The server's defaults (header 10 s, idle 5 s, body 10 s); the tests step the virtual
    /// clock to just before and just after each.
    static let limits = ConnectionLimits()
    static let margin = TimeAmount.milliseconds(100)

    /// A connected channel whose only handler is a guard counting into `stats`.
    static func guarded(_ stats: ConnectionStats) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(handler: ConnectionGuard(limits: limits, stats: stats))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    static func send(_ text: String, to channel: EmbeddedChannel) throws {
        try channel.writeInbound(channel.allocator.buffer(string: text))
        // The guard passes the bytes on untouched.
        let passed = try channel.readInbound(as: ByteBuffer.self)
        #expect(passed.map { String(buffer: $0) } == text)
    }

    static func tell(_ event: HTTPConnectionEvent, _ channel: EmbeddedChannel) throws {
        try channel.pipeline.triggerUserOutboundEvent(event).wait()
    }

    /// Steps the virtual clock to just before `timeout` (the connection must still be open),
    /// then just past it: the connection must be closed, counted under `reason` alone.
    static func expectClosed(after timeout: TimeAmount, _ reason: KeyPath<ConnectionFigures, UInt64>, _ channel: EmbeddedChannel, _ stats: ConnectionStats,
                             _ comment: Comment, sourceLocation: SourceLocation = #_sourceLocation) {
        channel.embeddedEventLoop.advanceTime(by: timeout - margin)
        #expect(channel.isActive, "closed before the timeout", sourceLocation: sourceLocation)
        channel.embeddedEventLoop.advanceTime(by: margin * 2)
        #expect(!channel.isActive, comment, sourceLocation: sourceLocation)
        let reasons: [KeyPath<ConnectionFigures, UInt64>] = [\.closedHeaderTimeout, \.closedIdle, \.closedBodyTimeout]
        for r in reasons { #expect(stats.figures()[keyPath: r] == (r == reason ? 1 : 0), "\(r)", sourceLocation: sourceLocation) }
    }

    /// Counts the quiesce events the guard passes on (towards NIO's HTTP pipeline handler).
    final class QuiesceSeen: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer
        var count = 0
        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if event is ChannelShouldQuiesceEvent { count += 1 }
            context.fireUserInboundEventTriggered(event)
        }
    }

    static func quiescing(_ stats: ConnectionStats) throws -> (EmbeddedChannel, QuiesceSeen) {
        let seen = QuiesceSeen()
        let channel = EmbeddedChannel(handlers: [ConnectionGuard(limits: limits, stats: stats), seen])
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (channel, seen)
    }

    @Test func drainingClosesAConnectionBetweenRequestsAtOnce() throws {
        let (channel, seen) = try Self.quiescing(ConnectionStats(limit: 10))
        try Self.send("GET / HTTP/1.1\r\n\r\n", to: channel)
        try Self.tell(.headReceived(bodyFollows: false), channel)
        try Self.tell(.responseEnded, channel)
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(!channel.isActive, "an idle keep-alive connection outlives the drain's start")
        #expect(seen.count == 0)
    }

    @Test func drainingPassesTheRequestBeingAnsweredToTheHTTPPipeline() throws {
        let (channel, seen) = try Self.quiescing(ConnectionStats(limit: 10))
        try Self.send("GET /slow HTTP/1.1\r\n\r\n", to: channel)
        try Self.tell(.headReceived(bodyFollows: false), channel)
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(channel.isActive)
        #expect(seen.count == 1, "NIO's pipeline handler is not told to answer and close")
    }

    @Test func drainingWaitsForAHalfReadHeadBeforePassingItOn() throws {
        let (channel, seen) = try Self.quiescing(ConnectionStats(limit: 10))
        try Self.send("GET /hello HTTP/1.1\r\nHo", to: channel)
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(channel.isActive)
        #expect(seen.count == 0, "passed on with a partial head buffered")
        try Self.send("st: x\r\n\r\n", to: channel)
        try Self.tell(.headReceived(bodyFollows: false), channel)
        #expect(seen.count == 1)
        #expect(channel.isActive)
    }

    /// Answers the requests it is given only when the test says, telling the guard what
    /// `HTTPHandler` tells it.
    final class HeldAnswers: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        var heads: [String] = []
        var context: ChannelHandlerContext?
        func handlerAdded(context: ChannelHandlerContext) { self.context = context }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .head(let head) = unwrapInboundIn(data) else { return }
            heads.append(head.uri)
            context.triggerUserOutboundEvent(HTTPConnectionEvent.headReceived(bodyFollows: false), promise: nil)
        }
        func answer() {
            guard let context else { return }
            let head = HTTPResponseHead(version: .http1_1, status: .ok, headers: ["content-length": "0"])
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }

    @Test func aDrainWithTheNextPipelinedHeadHalfReadAnswersTheFirstAndCloses() throws {
        // The server's own pipeline (guard, NIO's HTTP codec and error handling); NIO asserts
        // in debug builds, which this test runs in, if a 400 for the half-read second head is
        // written after it finished quiescing.
        let held = HeldAnswers()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ConnectionGuard(limits: Self.limits, stats: ConnectionStats(limit: 10)))
        try LoopScopeServer.addHTTPCodec(channel.pipeline.syncOperations)
        try channel.pipeline.syncOperations.addHandler(held)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        // One read: a whole request, then part of the next one's head.
        try channel.writeInbound(channel.allocator.buffer(string: "GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHo"))
        #expect(held.heads == ["/first"])
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(channel.isActive, "the request being answered lost its connection")
        held.answer()
        var written = ""
        while let part = try channel.readOutbound(as: IOData.self) {
            if case .byteBuffer(let b) = part { written += String(buffer: b) }
        }
        #expect(written.hasPrefix("HTTP/1.1 200 OK"), "\(written)")
        #expect(written.lowercased().contains("connection: close"), "\(written)")
        #expect(!written.contains("400"), "a 400 written to a closed connection: \(written)")
        #expect(!channel.isActive, "the drained connection stays open")
        #expect(held.heads == ["/first"])
        _ = try? channel.finish(acceptAlreadyClosed: true)
    }

    @Test func halfAHeaderIsClosedAtTheHeaderTimeoutAndCounted() throws {
        let stats = ConnectionStats(limit: 10)
        let channel = try Self.guarded(stats)
        try Self.send("GET /hello HTTP/1.1\r\nHost: x\r\n", to: channel)
        Self.expectClosed(after: Self.limits.headerTimeout, \.closedHeaderTimeout, channel, stats, "a client sending half a header holds the connection")
    }

    @Test func aRequestBeingAnsweredOutlivesTheHeaderTimeoutThenIdlesOut() throws {
        let stats = ConnectionStats(limit: 10)
        let channel = try Self.guarded(stats)
        try Self.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n", to: channel)
        try Self.tell(.headReceived(bodyFollows: false), channel)
        // The handler takes its time: no timeout applies while the server answers.
        channel.embeddedEventLoop.advanceTime(by: (Self.limits.headerTimeout + Self.limits.bodyTimeout) * 3)
        #expect(channel.isActive, "a request in progress was cut by a timeout")
        try Self.tell(.responseEnded, channel)
        Self.expectClosed(after: Self.limits.idleTimeout, \.closedIdle, channel, stats, "an idle keep-alive connection stays open")
    }

    @Test func aKeepAliveConnectionIdlesOutOnTimeAfterManyRequestsWhateverWasArmedBefore() throws {
        // The guard keeps one scheduled check and moves it only when a deadline comes sooner
        // (here the idle timeout after the first answer, inside the header timeout armed at
        // accept); later deadlines are checked when it runs.
        let stats = ConnectionStats(limit: 10)
        let channel = try Self.guarded(stats)
        for _ in 0..<19 {
            try Self.send("GET / HTTP/1.1\r\n\r\n", to: channel)
            try Self.tell(.headReceived(bodyFollows: false), channel)
            try Self.tell(.responseEnded, channel)
            channel.embeddedEventLoop.advanceTime(by: Self.limits.idleTimeout - Self.margin)
            #expect(channel.isActive, "closed while requests kept coming within the idle timeout")
        }
        try Self.send("GET / HTTP/1.1\r\n\r\n", to: channel)
        try Self.tell(.headReceived(bodyFollows: false), channel)
        try Self.tell(.responseEnded, channel)
        Self.expectClosed(after: Self.limits.idleTimeout, \.closedIdle, channel, stats, "idle past the idle timeout after the last answer")
    }

    @Test func theFirstByteOfTheNextRequestEndsTheIdleSpell() throws {
        let stats = ConnectionStats(limit: 10)
        let channel = try Self.guarded(stats)
        try Self.send("GET / HTTP/1.1\r\n\r\n", to: channel)
        try Self.tell(.headReceived(bodyFollows: false), channel)
        try Self.tell(.responseEnded, channel)
        channel.embeddedEventLoop.advanceTime(by: Self.limits.idleTimeout - Self.margin)
        try Self.send("G", to: channel)
        // Now the header timeout counts, from that byte, and the idle timer is off.
        Self.expectClosed(after: Self.limits.headerTimeout, \.closedHeaderTimeout, channel, stats, "a started request holds the connection")
    }

    @Test func aBodyThatStopsArrivingIsClosedAtTheBodyTimeout() throws {
        let stats = ConnectionStats(limit: 10)
        let channel = try Self.guarded(stats)
        try Self.send("POST /upload HTTP/1.1\r\ncontent-length: 100\r\n\r\n", to: channel)
        try Self.tell(.headReceived(bodyFollows: true), channel)
        for _ in 0..<3 {
            channel.embeddedEventLoop.advanceTime(by: Self.limits.bodyTimeout - Self.margin)
            try Self.send("0123456789", to: channel)   // a byte within each body timeout keeps it open
        }
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: Self.limits.bodyTimeout + Self.margin)
        #expect(!channel.isActive, "a body that stopped holds the connection")
        #expect(stats.figures().closedBodyTimeout == 1)
    }

    @Test func aConnectionOverTheLimitIsAnswered503WithRetryAfterThenClosed() throws {
        let channel = EmbeddedChannel(handler: OverLimitHandler(limit: 7))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        let written = try #require(try channel.readOutbound(as: ByteBuffer.self))
        let response = String(buffer: written)
        #expect(response.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"))
        #expect(response.contains("retry-after: 1\r\n"))
        #expect(response.contains("at most 7 connections"))
        // What the client still sends is read and dropped; the connection ends after the linger.
        try channel.writeInbound(channel.allocator.buffer(string: "GET / HTTP/1.1\r\n\r\n"))
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        channel.embeddedEventLoop.advanceTime(by: ConnectionLimits.lingerTimeout + .milliseconds(1))
        #expect(!channel.isActive)
    }
}
