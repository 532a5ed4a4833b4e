import NIOCore
import LoopScopeWire

/// Speaks the control protocol on one connection: greeting, request lines, replies, and
/// snapshot frames for a subscription. Lives on the control event loop.
package final class ControlHandler: ChannelInboundHandler {
    package typealias InboundIn = ByteBuffer
    package typealias OutboundOut = ByteBuffer

    private let core: AgentCore
    private let cache: SnapshotCache
    private let actor: String
    private var session: ControlSession
    private var framer: LineFramer
    private let codec = WireCodec()
    private var stream: RepeatedTask?

    /// Request lines longer than this are refused with `line_too_long`.
    package static let maxLineBytes = 64 * 1024

    /// `maxLineBytes`: the line limit, `ControlHandler.maxLineBytes` but in the fuzzing harness
    /// (a small one lets short inputs reach `line_too_long`).
    package init(core: AgentCore, cache: SnapshotCache, readOnly: Bool, actor: String, maxLineBytes: Int = ControlHandler.maxLineBytes) {
        self.core = core
        self.cache = cache
        self.actor = actor
        self.session = ControlSession(readOnly: readOnly)
        self.framer = LineFramer(maxLineBytes: maxLineBytes)
    }

    package func channelActive(context: ChannelHandlerContext) {
        let greeting = Greeting(server: core.configuration.name, pid: getpidValue(), readOnly: session.readOnly)
        send(context: context, ServerMessage(greeting: greeting))
        context.fireChannelActive()
    }

    package func channelInactive(context: ChannelHandlerContext) {
        stream?.cancel()
        stream = nil
        context.fireChannelInactive()
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        framer.append(buffer.readableBytesView)
        while let item = framer.next() {
            switch item {
            case .tooLong(let bytes):
                send(context: context, .failure(id: nil, WireError(.lineTooLong, "a request line of \(bytes) bytes is over the \(framer.maxLineBytes)-byte limit")))
            case .line(let line):
                handle(context: context, line: line)
            }
        }
    }

    private func handle(context: ChannelHandlerContext, line: [UInt8]) {
        let (id, parsed) = codec.decodeRequest(line)
        do {
            let command = try parsed.get()
            switch try session.admit(command) {
            case .reply(let result):
                send(context: context, .success(id: id, result))
            case .startStream(let sub, let ms, let result):
                send(context: context, .success(id: id, result))
                startStream(context: context, subscription: sub, intervalMs: ms)
            case .stopStream(let result):
                stream?.cancel()
                stream = nil
                send(context: context, .success(id: id, result))
            case .execute(let command):
                try execute(context: context, id: id, command)
            }
        } catch {
            send(context: context, .failure(id: id, error))
        }
    }

    private func execute(context: ChannelHandlerContext, id: Int?, _ command: Command) throws(WireError) {
        switch command {
        case .snapshot:
            // Spliced so the cached encoding is reused.
            var bytes = Array(#"{"id":"#.utf8) + Array((id.map(String.init) ?? "null").utf8) + Array(#","ok":true,"result":{"snapshot":"#.utf8)
            bytes += cache.current().encoded()
            bytes += Array("}}\n".utf8)
            write(context: context, bytes)
        case .events(let since):
            send(context: context, .success(id: id, .events(core.events.events(since: since))))
        case .route(let method, let path, let model):
            reply(context, id, try core.setModel(method: method, path: path, model: model, actor: actor))
        case .resize(let pool, let size):
            reply(context, id, try core.resize(pool: pool, size: size, actor: actor))
        case .limit(let pool, let limit):
            reply(context, id, try core.setLimit(pool: pool, limit: limit, actor: actor))
        case .fix(let diagnosis):
            reply(context, id, try core.fix(diagnosis: diagnosis, actor: actor))
        case .stallThreshold(let ms):
            reply(context, id, try core.setStallThreshold(millis: ms, actor: actor))
        case .hello, .subscribe, .unsubscribe:
            break // decided by the session
        }
    }

    private func reply(_ context: ChannelHandlerContext, _ id: Int?, _ event: ControlEvent) {
        cache.invalidate()
        send(context: context, .success(id: id, .changed(event)))
    }

    private func startStream(context: ChannelHandlerContext, subscription: Int, intervalMs: Int) {
        stream?.cancel()
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        stream = context.eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(Int64(intervalMs))) { _ in
            let (handler, context) = bound.value
            handler.pushFrame(context: context, subscription: subscription)
        }
    }

    private func pushFrame(context: ChannelHandlerContext, subscription: Int) {
        guard context.channel.isWritable else {
            session.frameDropped()
            core.framesDropped.add(1, ordering: .relaxed)
            return
        }
        let current = cache.current()
        guard session.sendsWholeFrame(generation: current.generation) else {
            send(context: context, ServerMessage(unchanged: UnchangedFrame(subscription: subscription, dropped: session.dropped, of: current.snapshot)))
            return
        }
        var bytes = Array(#"{"frame":{"subscription":"#.utf8) + Array(String(subscription).utf8)
        bytes += Array(#","dropped":"#.utf8) + Array(String(session.dropped).utf8) + Array(#","snapshot":"#.utf8)
        bytes += current.encoded()
        bytes += Array("}}\n".utf8)
        write(context: context, bytes)
    }

    private func send(context: ChannelHandlerContext, _ message: ServerMessage) {
        write(context: context, codec.encodeLine(message))
    }

    private func write(context: ChannelHandlerContext, _ bytes: [UInt8]) {
        var buffer = context.channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    package func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
