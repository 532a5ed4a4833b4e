import LoopScopeAgent
import LoopScopeWire
import NIOCore
import NIOHTTP1

/// Records every request of a plain SwiftNIO HTTP/1 server with a `LoopScopeAgent`, by route
/// template: rate, status classes, in flight, latency from the moment the request's bytes
/// arrived (the wait for a busy loop included, as LoopScope's own server measures it), and
/// the time the handlers after it held the event loop while handling the request's parts
/// (`channelRead` work: CPU or a blocking call on the loop), with its CPU time — charged to
/// the route on that loop (class `cpu` or `blocking`, culprit, stall sites named while the
/// loop is stalled). Time between parts and the response (awaiting a future, a database) is
/// I/O.
///
/// Add it after `configureHTTPServerPipeline()` and before your handlers, on a loop the agent
/// watches:
///
/// ```swift
/// try channel.pipeline.syncOperations.configureHTTPServerPipeline()
/// try channel.pipeline.syncOperations.addHandler(LoopScopeHTTPHandler(agent: agent) { head in
///     head.uri.hasPrefix("/users/") ? "/users/{id}" : head.uri   // your router's template
/// })
/// try channel.pipeline.syncOperations.addHandler(MyHTTPHandler())
/// ```
///
/// `route` maps a request head to its template (`/users/{id}`, never a raw path with ids in
/// it, or the route table grows with every id); nil puts the request in the one `NotFound`
/// bucket. The agent keeps at most a few hundred routes and folds the rest into one.
/// One request at a time per connection (`configureHTTPServerPipeline` serialises pipelined
/// requests). Not thread-safe: one instance per channel, used on its loop.
public final class LoopScopeHTTPHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = HTTPServerRequestPart
    public typealias InboundOut = HTTPServerRequestPart
    public typealias OutboundIn = HTTPServerResponsePart
    public typealias OutboundOut = HTTPServerResponsePart

    private let agent: LoopScopeAgent
    private let template: @Sendable (HTTPRequestHead) -> String?
    /// `loop i` of the agent, nil on a loop it does not watch (requests are then counted
    /// off the loops, their hold not charged).
    private var loopIndex: Int?
    private var socket: CInt = -1

    private struct InFlight {
        let route: LoopScopeAgent.RouteID
        /// When the loop read the head, minus how long its bytes waited for the loop.
        let start: UInt64
        let loopWait: UInt64
        let sampleCPU: Bool
        var heldNanos: UInt64 = 0
        var cpuNanos: UInt64 = 0
        var status = 0
        var measures = RequestMeasures()
    }

    private var request: InFlight?
    /// Set while the handlers after this one run a part of the request.
    private var hold: LoopScopeAgent.LoopHold?

    public init(agent: LoopScopeAgent, route template: @escaping @Sendable (HTTPRequestHead) -> String?) {
        self.agent = agent
        self.template = template
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        loopIndex = agent.loopIndex(of: context.eventLoop)
        let handle = try? context.channel.pipeline.syncOperations.withUnsafeTransportIfAvailable(of: NIOBSDSocket.Handle.self) { $0 }
        socket = handle.flatMap { $0 } ?? -1
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard agent.isInstrumented else { return context.fireChannelRead(data) }
        if case .head(let head) = unwrapInboundIn(data) {
            let now = agent.now()
            let route = template(head).map { agent.loopRoute(method: head.method.rawValue, template: $0) } ?? agent.loopRoute(method: "*", template: "NotFound")
            let wait = loopWait()
            let sampleCPU = agent.loopRequestStarted(route, loop: loopIndex)
            request = InFlight(route: route, start: now, loopWait: wait, sampleCPU: sampleCPU)
            request?.measures[.requestBytes] = 0
        } else if case .body(let chunk) = unwrapInboundIn(data) {
            request?.measures[.requestBytes]? += Double(chunk.readableBytes)
        }
        guard let r = request, let loop = loopIndex else { return context.fireChannelRead(data) }
        // What the handlers after this one do with the part, synchronously, holds the loop
        // (until they answer, when they answer inside the call).
        hold = agent.enterLoop(loop, route: r.route, sampleCPU: r.sampleCPU)
        context.fireChannelRead(data)
        endHold()
    }

    /// Charges the hold in progress, if any, to the request in flight.
    private func endHold() {
        guard let h = hold else { return }
        hold = nil
        let (held, cpu) = agent.exitLoop(h)
        request?.heldNanos &+= held
        request?.cpuNanos &+= cpu
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head):
            request?.status = Int(head.status.code)
            request?.measures[.responseBytes] = 0
        case .end:
            finish()
        case .body(let part):
            request?.measures[.responseBytes]? += Double(part.readableBytes)
        }
        context.write(data, promise: promise)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        // Closed before the response ended: the client gave up (nginx's 499).
        if request != nil {
            if request!.status == 0 { request!.status = 499 }
            finish()
        }
        context.fireChannelInactive()
    }

    private func finish() {
        endHold()
        guard let r = request else { return }
        request = nil
        agent.loopRequestFinished(r.route, loop: loopIndex, status: r.status, start: r.start, loopWait: r.loopWait,
                                  heldNanos: r.heldNanos, cpuNanos: r.sampleCPU ? r.cpuNanos : nil, measures: r.measures)
    }

    /// How long the request's bytes waited in the kernel for this loop (`ExecutorStats.loopWait`).
    private func loopWait() -> UInt64 {
        guard let loop = loopIndex else { return 0 }
        return agent.loopWait(fd: socket, loop: loop)
    }
}
