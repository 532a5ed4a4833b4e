import NIOCore
import NIOHTTP1
import LoopScopeWire

/// Reads HTTP requests on one connection, runs them through their route's pipeline and writes
/// the responses. Lives on the connection's event loop; pipelined requests arrive one at a
/// time (NIO's pipelining handler holds the next until this response ends).
final class HTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let core: RuntimeCore
    private let loopIndex: Int
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    /// What the request being answered reports besides time (one request at a time: the
    /// connection's guard holds a pipelined request until the response before it is written).
    private var measures = RequestMeasures()
    private var tooLarge = false
    /// A request was answered at its head (413) and the connection is ending: read nothing more.
    private var ending = false
    /// The connection's socket, for reading how long a request waited for the loop; -1 if unknown.
    private var socket: CInt = -1
    /// The current request's loop wait, measured when its head was read.
    private var loopWaitNanos: UInt64 = 0

    init(core: RuntimeCore, loopIndex: Int) {
        self.core = core
        self.loopIndex = loopIndex
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let handle = try? context.channel.pipeline.syncOperations.withUnsafeTransportIfAvailable(of: NIOBSDSocket.Handle.self) { $0 }
        socket = handle.flatMap { $0 } ?? -1
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !ending else { return }
        switch unwrapInboundIn(data) {
        case .head(let h):
            // A body follows when the head declares a length over 0 or a chunked encoding.
            let bodyFollows = h.headers.first(name: "content-length").flatMap(Int.init).map { $0 > 0 } ?? h.headers.contains(name: "transfer-encoding")
            context.triggerUserOutboundEvent(HTTPConnectionEvent.headReceived(bodyFollows: bodyFollows), promise: nil)
            if let declared = h.headers.first(name: "content-length").flatMap(Int.init), declared > core.configuration.maxBodyBytes {
                refuseAtHead(context: context, declared: declared)
                return
            }
            head = h
            loopWaitNanos = measureLoopWait()
            body = nil
            tooLarge = false
        case .body(var chunk):
            guard !tooLarge else { return }
            if (body?.readableBytes ?? 0) + chunk.readableBytes > core.configuration.maxBodyBytes {
                tooLarge = true
                body = nil
            } else if body == nil {
                body = chunk
            } else {
                body!.writeBuffer(&chunk)
            }
        case .end:
            if head != nil { context.triggerUserOutboundEvent(HTTPConnectionEvent.bodyEnded, promise: nil) }
            guard let head else { return }
            self.head = nil
            if tooLarge {
                core.connections.count(.bodyTooLarge)
                writeSimple(context: context, status: .payloadTooLarge, text: "request body over \(core.configuration.maxBodyBytes) bytes\n", keepAlive: false)
                return
            }
            dispatch(context: context, head: head, body: body)
            body = nil
        }
    }

    /// Answers 413 to a request whose head declares a body over the limit, without reading the
    /// body, and ends the connection (a lingering close, so the client reads the answer).
    private func refuseAtHead(context: ChannelHandlerContext, declared: Int) {
        ending = true
        head = nil
        body = nil
        core.connections.count(.bodyTooLarge)
        let text = "request body of \(declared) bytes is over the \(core.configuration.maxBodyBytes)-byte limit\n"
        writeResponse(context: context, status: Int(HTTPResponseStatus.payloadTooLarge.code), contentType: "text/plain; charset=utf-8",
                      body: Array(text.utf8), keepAlive: false, extra: nil, lingering: true)
    }

    /// How long the bytes just read waited in the kernel for this loop (`ExecutorStats.loopWait`).
    private func measureLoopWait() -> UInt64 {
        guard core.instrumented else { return 0 }
        switch core.configuration.loopWait {
        case .off: return 0
        case .always: return core.loopStats[loopIndex].loopWait(fd: socket, now: Clocks.monotonicNanos(), everyRequest: true)
        case .whileBusy: return core.loopStats[loopIndex].loopWait(fd: socket, now: Clocks.monotonicNanos())
        }
    }

    private func dispatch(context: ChannelHandlerContext, head: HTTPRequestHead, body: ByteBuffer?) {
        let start = Clocks.monotonicNanos()
        let loopWait = loopWaitNanos
        let keepAlive = head.isKeepAlive
        let method = head.method.rawValue
        if core.configuration.metricsEndpoint, head.method == .GET, head.uri == "/metrics" {
            let text = PrometheusText.render(core.agent.snapshot())
            writeResponse(context: context, status: 200, contentType: "text/plain; version=0.0.4", body: Array(text.utf8), keepAlive: keepAlive, extra: nil)
            return
        }
        switch core.router.match(method: method, uri: head.uri) {
        case .notFound:
            writeSimple(context: context, status: .notFound, text: "no route for \(Router.path(of: head.uri))\n", keepAlive: keepAlive)
        case .methodNotAllowed(let allowed):
            writeResponse(context: context, status: 405, contentType: "text/plain; charset=utf-8",
                          body: Array("method \(method) not allowed; allowed: \(allowed.joined(separator: ", "))\n".utf8),
                          keepAlive: keepAlive, extra: ("allow", allowed.joined(separator: ", ")))
        case .found(let index, let pathParameters):
            let rt = core.routes[index]
            let measureCPU = core.requestStarted(rt, loopIndex: loopIndex)
            let model = rt.model
            let query = QueryString.parse(uri: head.uri)
            let bodyBytes = body.map { Array($0.readableBytesView) } ?? []
            measures = RequestMeasures()
            measures[.requestBytes] = Double(bodyBytes.count)
            if !rt.route.hasIOStages {
                let input = JobInput(parameters: RequestContext.parameters(query: query, path: pathParameters), body: bodyBytes)
                if model == .loop {
                    let outcome = core.runOnLoop(rt, input: input, loopIndex: loopIndex, measureCPU: measureCPU)
                    finish(context: context, rt: rt, outcome: outcome, start: start, loopWait: loopWait, ioNanos: 0, poolWaitNanos: 0, result: nil, keepAlive: keepAlive)
                } else {
                    let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                    let loop = context.eventLoop
                    let once = armDeadline(context: context, rt: rt, start: start, loopWait: loopWait, keepAlive: keepAlive)
                    core.compute(rt, model: model, input: input, loop: loop, loopIndex: loopIndex, measureCPU: measureCPU) { outcome in
                        loop.execute {
                            guard once?.claim() ?? true else { return }
                            let (handler, context) = bound.value
                            handler.finish(context: context, rt: rt, outcome: outcome, start: start, loopWait: loopWait, ioNanos: 0, poolWaitNanos: 0, result: nil, keepAlive: keepAlive)
                        }
                    }
                }
            } else {
                let request = RequestContext(method: method, path: String(Router.path(of: head.uri)), query: query, pathParameters: pathParameters, body: bodyBytes)
                let once = armDeadline(context: context, rt: rt, start: start, loopWait: loopWait, keepAlive: keepAlive)
                let task = runPipeline(context: context, rt: rt, model: model, measureCPU: measureCPU, request: request, start: start, loopWait: loopWait, keepAlive: keepAlive, once: once)
                once?.task = task
            }
        }
    }

    /// One answer per request when a deadline may answer first: whichever of the work's
    /// completion and the deadline claims it first writes the response; the other does nothing.
    /// Touched only on the connection's event loop.
    final class ResponseOnce: @unchecked Sendable {
        private var claimed = false
        var timer: Scheduled<Void>?
        /// The pipeline's task, cancelled when the deadline answers first.
        var task: Task<Void, Never>?

        /// Whether the caller is the first (and so answers).
        func claim() -> Bool {
            guard !claimed else { return false }
            claimed = true
            timer?.cancel()
            return true
        }
    }

    /// Schedules the route's deadline, if it has one: past it, the request is answered 504 and
    /// counted as a `deadline` timeout.
    private func armDeadline(context: ChannelHandlerContext, rt: RouteRuntime, start: UInt64, loopWait: UInt64, keepAlive: Bool) -> ResponseOnce? {
        guard let deadline = rt.route.timeout ?? core.configuration.routeTimeout else { return nil }
        let once = ResponseOnce()
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let elapsed = Clocks.monotonicNanos() &- start
        once.timer = context.eventLoop.scheduleTask(in: deadline - .nanoseconds(Int64(min(elapsed, UInt64(deadline.nanoseconds))))) {
            guard once.claim() else { return }
            once.task?.cancel()
            let (handler, context) = bound.value
            let failure = ComputeFailure.deadline(millis: Int(deadline.nanoseconds / 1_000_000))
            handler.finish(context: context, rt: rt, outcome: ComputeOutcome(result: .failure(failure), ran: false), start: start, loopWait: loopWait,
                           ioNanos: 0, poolWaitNanos: 0, result: nil, keepAlive: keepAlive)
        }
        return once
    }

    /// Runs a route with I/O stages in a task: prepare (await), compute (per model), respond (await).
    /// The task prefers a `SuspensionCounter`, so an async stage that never suspended (CPU work
    /// or a blocking call written inside async code) is charged as held time on the cooperative
    /// pool, with its CPU time, rather than as I/O.
    /// `once` (when the route has a deadline) decides whether its completion still answers.
    private func runPipeline(context: ChannelHandlerContext, rt: RouteRuntime, model: ExecutionModel, measureCPU: Bool, request: RequestContext, start: UInt64, loopWait: UInt64, keepAlive: Bool, once: ResponseOnce?) -> Task<Void, Never> {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let loop = context.eventLoop
        let core = self.core
        let loopIndex = self.loopIndex
        let counter = SuspensionCounter()
        let tally = RequestTally(route: rt.name)
        return Task(executorPreference: counter) {
          await RequestTally.$current.withValue(tally) {
            var stages = AsyncStages()
            var outcome: ComputeOutcome
            var result: HTTPResult? = nil
            var timeoutReason: String? = nil
            do {
                let input = try await core.measureAsyncStage(rt, counter: counter, measureCPU: measureCPU, into: &stages) {
                    try await rt.route.prepare?(request) ?? request.defaultInput
                }
                outcome = await withCheckedContinuation { continuation in
                    core.compute(rt, model: model, input: input, loop: loop, loopIndex: loopIndex, measureCPU: measureCPU) { continuation.resume(returning: $0) }
                }
                if case .output(let bytes) = outcome.result, let respond = rt.route.respond {
                    result = try await core.measureAsyncStage(rt, counter: counter, measureCPU: measureCPU, into: &stages) {
                        try await respond(request, bytes)
                    }
                }
            } catch let e as HTTPError {
                outcome = ComputeOutcome(result: .output(Array((e.message + "\n").utf8)), ran: false)
                result = HTTPResult(status: e.status, text: e.message + "\n")
                timeoutReason = e.timeoutReason
            } catch {
                // A timeout's reason travels in the failure (`ComputeFailure.callTimedOut`).
                outcome = ComputeOutcome(result: .failure(ComputeFailure(thrown: error)), ran: false)
            }
            stages.merge(into: &outcome)
            let final = outcome
            let finalResult = result
            let awaited = stages.ioNanos
            let poolWait = min(tally.poolWaitNanos, awaited)
            let reason = timeoutReason
            // Cancelled: the route's deadline answered (only it cancels), maybe long ago and the
            // server stopped since; the loop has nothing left to do for this request.
            if Task.isCancelled { return }
            loop.execute {
                guard once?.claim() ?? true else { return }
                let (handler, context) = bound.value
                handler.finish(context: context, rt: rt, outcome: final, start: start, loopWait: loopWait, ioNanos: awaited - poolWait, poolWaitNanos: poolWait,
                               result: finalResult, keepAlive: keepAlive, timeoutReason: reason)
            }
          }
        }
    }

    /// Writes the response for a finished pipeline and records it. On the event loop.
    private func finish(context: ChannelHandlerContext, rt: RouteRuntime, outcome: ComputeOutcome, start: UInt64, loopWait: UInt64, ioNanos: UInt64, poolWaitNanos: UInt64, result: HTTPResult?, keepAlive: Bool, timeoutReason: String? = nil) {
        let status: Int
        var error: String? = nil
        var reason = timeoutReason
        switch outcome.result {
        case .output(let bytes):
            let r = result ?? HTTPResult(status: 200, contentType: rt.route.contentType, body: bytes)
            status = r.status
            if status >= 500 { error = String(decoding: r.body, as: UTF8.self).trimmingCharacters(in: .newlines) }
            measures[.responseBytes] = Double(r.body.count)
            writeResponse(context: context, status: r.status, contentType: r.contentType, body: r.body, keepAlive: keepAlive, extra: nil)
        case .failure(let failure):
            status = failure.status
            if status >= 500 { error = failure.message }
            reason = reason ?? failure.timeoutReason
            let extra: (String, String)? = failure.status == 503 ? ("retry-after", "1") : nil
            let body = Array((failure.message + "\n").utf8)
            measures[.responseBytes] = Double(body.count)
            writeResponse(context: context, status: status, contentType: "text/plain; charset=utf-8", body: body, keepAlive: keepAlive, extra: extra)
        }
        core.requestFinished(rt, loopIndex: loopIndex, RequestRecord(
            status: status, latencyNanos: Clocks.monotonicNanos() &- start &+ loopWait, loopWaitNanos: loopWait,
            queueNanos: outcome.queueNanos, computeNanos: outcome.wallNanos - outcome.poolWaitNanos, cpuNanos: outcome.cpuNanos,
            ioNanos: ioNanos, poolWaitNanos: poolWaitNanos + outcome.poolWaitNanos, heldNanos: outcome.heldNanos, asyncHeldNanos: outcome.asyncHeldNanos, computed: outcome.ran || outcome.asyncHeldNanos > 0,
            error: error, timeoutReason: reason, measures: measures
        ))
    }

    private func writeSimple(context: ChannelHandlerContext, status: HTTPResponseStatus, text: String, keepAlive: Bool) {
        writeResponse(context: context, status: Int(status.code), contentType: "text/plain; charset=utf-8", body: Array(text.utf8), keepAlive: keepAlive, extra: nil)
    }

    /// Writes a whole response. With `keepAlive` the connection's guard is told it ended (before
    /// its end is written: that write releases a pipelined request, whose head must come after);
    /// otherwise the connection is closed once it is written, or, `lingering`, ended with a
    /// lingering close.
    private func writeResponse(context: ChannelHandlerContext, status: Int, contentType: String, body: [UInt8], keepAlive: Bool, extra: (String, String)?,
                               lingering: Bool = false) {
        var headers = HTTPHeaders()
        headers.reserveCapacity(4)
        headers.add(name: "content-type", value: contentType)
        headers.add(name: "content-length", value: String(body.count))
        if !keepAlive { headers.add(name: "connection", value: "close") }
        if let extra { headers.add(name: extra.0, value: extra.1) }
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: body.count)
        buffer.writeBytes(body)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        if keepAlive {
            context.triggerUserOutboundEvent(HTTPConnectionEvent.responseEnded, promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else if lingering {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            LingeringClose.start(context.channel)
        } else {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
