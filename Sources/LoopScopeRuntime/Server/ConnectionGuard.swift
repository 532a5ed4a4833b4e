import NIOCore
import NIOHTTP1
import LoopScopeWire

/// What `HTTPHandler` tells the connection's `ConnectionGuard`, as outbound user events (they
/// travel from the handler towards the socket, through the HTTP codec, to the guard).
enum HTTPConnectionEvent: Sendable {
    /// A complete request head was decoded; `bodyFollows` when it announced a body.
    case headReceived(bodyFollows: Bool)
    /// The request's body was read to its end.
    case bodyEnded
    /// A response is written in full and the connection stays open for the next request.
    case responseEnded
}

/// The first handler of an HTTP connection (next to the socket): applies the header-read,
/// body-read and idle keep-alive timeouts (`ConnectionTimeouts` decides, this does the I/O) and counts the
/// connections it closes. Sees raw bytes, so the first byte of a request ends an idle spell.
/// Lives on the connection's event loop.
final class ConnectionGuard: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private var timeouts: ConnectionTimeouts
    private let stats: ConnectionStats
    /// The armed timeout: when it expires and its generation (nil: none armed).
    private var armed: (deadline: NIODeadline, generation: Int)?
    /// The one scheduled check and when it runs. A timeout is re-armed at every request and
    /// response; the check is rescheduled only when the new deadline comes before it, and a
    /// check that runs before the deadline schedules the next. Scheduling and cancelling a
    /// task per arm cost about a tenth of a keep-alive server's CPU (perf at saturation:
    /// `scheduleTask`, `Scheduled.cancel` and the timer heap's upkeep).
    private var timer: (task: Scheduled<Void>, at: NIODeadline)?

    init(limits: ConnectionLimits, stats: ConnectionStats) {
        self.timeouts = ConnectionTimeouts(limits: limits)
        self.stats = stats
    }

    func channelActive(context: ChannelHandlerContext) {
        apply(timeouts.opened(), context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.task.cancel()
        timer = nil
        armed = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        apply(timeouts.bytesRead(), context: context)
        context.fireChannelRead(data)
    }

    /// The server drains (`ServerQuiescingHelper`'s event): `ConnectionTimeouts.drain` says
    /// whether to close now, pass the event on to NIO's HTTP pipeline handler, or wait for the head.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ChannelShouldQuiesceEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        switch timeouts.drain() {
        case .passOn: context.fireUserInboundEventTriggered(event)
        case .afterHead: break
        case .closeNow: context.close(promise: nil)
        }
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let event = event as? HTTPConnectionEvent else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        switch event {
        case .headReceived(let bodyFollows):
            let drainNow = timeouts.drainOnHead
            apply(timeouts.headReceived(bodyFollows: bodyFollows), context: context)
            if drainNow { context.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent()) }
        case .bodyEnded: apply(timeouts.bodyEnded(), context: context)
        case .responseEnded: apply(timeouts.responseEnded(), context: context)
        }
        promise?.succeed(())
    }

    private func apply(_ action: ConnectionTimeouts.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .disarm:
            armed = nil
        case .arm(_, let after, let generation):
            let deadline = context.eventLoop.now + after
            armed = (deadline, generation)
            if let t = timer, t.at <= deadline { return }
            schedule(at: deadline, context: context)
        case .close(let reason):
            timer?.task.cancel()
            timer = nil
            armed = nil
            guard context.channel.isActive else { return }
            // The last response may still be on its way to a slow reader: an idle connection is
            // one with nothing left to send, so wait again.
            if reason == .idleTimeout, let unsent = try? context.channel.syncOptions?.getOption(.bufferedWritableBytes), unsent > 0 {
                apply(timeouts.stillSending(), context: context)
                return
            }
            stats.count(reason)
            context.close(promise: nil)
        }
    }

    /// (Re)schedules the check for `deadline`, replacing one scheduled later.
    private func schedule(at deadline: NIODeadline, context: ChannelHandlerContext) {
        timer?.task.cancel()
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let task = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = bound.value
            handler.check(context: context)
        }
        timer = (task, deadline)
    }

    /// The scheduled check ran: the armed timeout fires if its deadline has come, or is
    /// checked again at its deadline.
    private func check(context: ChannelHandlerContext) {
        timer = nil
        guard let (deadline, generation) = armed else { return }
        guard context.eventLoop.now >= deadline else {
            schedule(at: deadline, context: context)
            return
        }
        armed = nil
        apply(timeouts.fired(generation: generation), context: context)
    }
}

/// Ends a connection after its last response without resetting it: closes the output once the
/// response is written, keeps reading (and dropping) what the client still sends, and closes
/// when the client does or after `ConnectionLimits.lingerTimeout`.
enum LingeringClose {
    /// Call on the channel's event loop, after writing the last response.
    static func start(_ channel: any Channel) {
        channel.close(mode: .output, promise: nil)
        let deadline = channel.eventLoop.scheduleTask(in: ConnectionLimits.lingerTimeout) { channel.close(promise: nil) }
        channel.closeFuture.whenComplete { _ in deadline.cancel() }
    }
}

/// The only handler of a connection accepted over the limit: answers 503 without reading the
/// request and ends the connection with a lingering close, dropping what it reads.
final class OverLimitHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private let limit: Int

    init(limit: Int) { self.limit = limit }

    func channelActive(context: ChannelHandlerContext) {
        let body = "over capacity: this server serves at most \(limit) connections at once; retry shortly\n"
        let response = "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: \(body.utf8.count)\r\n"
            + "retry-after: 1\r\nconnection: close\r\n\r\n" + body
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: response)), promise: nil)
        LingeringClose.start(context.channel)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// Between NIO's HTTP pipeline handler and its protocol error handler: drops a parse error that
/// arrives once the connection is closed, when no answer can reach the client. The decoder
/// reports one at close for a request head left incomplete in its buffer: the second of two
/// pipelined requests, cut by the client or by a drain that closes after the first's answer.
final class ClosedConnectionParseErrors: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is HTTPParserError, !context.channel.isActive { return }
        context.fireErrorCaught(error)
    }
}
