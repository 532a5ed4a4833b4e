import LoopScopeWire
import NIOCore

extension LoopScopeAgent {
    /// A route of your server, by method and template (`/users/{id}`, never a raw path).
    public struct RouteID: Sendable, Hashable {
        package let index: Int
    }

    /// The route `method template`, registered the first time it is asked for (later calls are
    /// a dictionary lookup). Its work is shown as running on the cooperative pool (`task`).
    public func route(method: String, template: String) -> RouteID {
        RouteID(index: core.route(method: method, path: template, model: { .task }))
    }

    /// The route `method template` whose work runs on the event loop that read it (a plain
    /// SwiftNIO handler), as `LoopScopeHTTPHandler` registers them.
    package func loopRoute(method: String, template: String) -> RouteID {
        RouteID(index: core.route(method: method, path: template, model: { .loop }))
    }

    /// The index (`loop i`) of a watched event loop; nil for a loop the agent does not watch.
    package func loopIndex(of loop: any EventLoop) -> Int? {
        core.loopIndices.withLockedValue { $0[ObjectIdentifier(loop)] }
    }

    // MARK: requests handled on an event loop (LoopScopeHTTPHandler)

    /// Whether request paths are measured (off only to measure what measuring costs).
    package var isInstrumented: Bool { core.instrumented }

    /// The monotonic clock the figures use, nanoseconds.
    package func now() -> UInt64 { Clocks.monotonicNanos() }

    /// How long the bytes just read from `fd` on `loop i` waited for the loop
    /// (`ExecutorStats.loopWait`). Call on that loop.
    package func loopWait(fd: CInt, loop: Int) -> UInt64 { core.loopStats[loop].loopWait(fd: fd, now: Clocks.monotonicNanos()) }

    /// A request of `route` was read on `loop` (nil: a loop the agent does not watch); returns
    /// whether its time on the loop should read thread CPU time.
    package func loopRequestStarted(_ route: RouteID, loop: Int?) -> Bool {
        core.requestStarted(route: route.index, loopIndex: loop ?? core.offLoopTally)
    }

    /// Code of `route` begins to run on `loop`, holding it (see `exitLoop`).
    package struct LoopHold {
        let loop: Int
        let route: Int
        let start: UInt64
        let cpuStart: UInt64?
    }

    package func enterLoop(_ loop: Int, route: RouteID, sampleCPU: Bool) -> LoopHold {
        let now = Clocks.monotonicNanos()
        core.board.enterLoop(loop, route: route.index, now: now)
        return LoopHold(loop: loop, route: route.index, start: now, cpuStart: sampleCPU ? Clocks.threadCPUNanos() : nil)
    }

    /// The code entered with `hold` returned: charges the time it held the loop to its route
    /// (when over the held threshold) and returns it, with its CPU time (0 unless sampled).
    package func exitLoop(_ hold: LoopHold) -> (heldNanos: UInt64, cpuNanos: UInt64) {
        core.board.exitLoop(hold.loop)
        let held = Clocks.monotonicNanos() &- hold.start
        core.loopStats[hold.loop].recordHeld(route: hold.route, nanos: held)
        return (held, hold.cpuStart.map { Clocks.threadCPUNanos() &- $0 } ?? 0)
    }

    /// The response of a request of `route` read on `loop` ended: latency from when its bytes
    /// arrived (`start` on the loop, plus `loopWait` before it), the time it held the loop as
    /// compute, the rest as I/O; `measures`, what it reported besides time.
    package func loopRequestFinished(_ route: RouteID, loop: Int?, status: Int, start: UInt64, loopWait: UInt64, heldNanos: UInt64, cpuNanos: UInt64?,
                                     measures: RequestMeasures = .init()) {
        let onLoop = Clocks.monotonicNanos() &- start
        let held = min(heldNanos, onLoop)
        core.requestFinished(route: route.index, loopIndex: loop ?? core.offLoopTally, RequestRecord(
            status: status, latencyNanos: onLoop &+ loopWait, loopWaitNanos: loopWait, computeNanos: held, cpuNanos: cpuNanos,
            ioNanos: onLoop &- held, heldNanos: held, measures: measures
        ))
    }

    /// Measures one request of `route` handled by async code (a Hummingbird or Vapor handler),
    /// on the cooperative pool: in flight while `body` runs; then its latency and status, and —
    /// when `body` never suspended, so it held its cooperative-pool thread throughout (CPU work
    /// or a blocking call in async code: fake async) — that held time and its CPU time, charged
    /// to the route on `tasks`. A body that awaited counts as I/O.
    ///
    /// To tell held from awaited, `body` runs in the current task with a task executor that
    /// counts its suspensions (on the same cooperative pool; entering it costs one hop, a few
    /// microseconds). That is done for every request of a quiet route and for about a thousand
    /// a second of a busy one (`LoopTally.asyncMeasureGapNanos`); the split and held figures
    /// are averages over those, the held time charged to `tasks` scaled by the requests each
    /// stands for. Latency and status are every request's. `status` maps the result to an
    /// HTTP status, `errorStatus` a thrown error; `measures` gives what the request reported
    /// besides time (`RequestMeasure`: body sizes, …), from the result (nil: it threw).
    public func measureRequest<T>(_ route: RouteID, status: (T) -> Int, errorStatus: (any Error) -> Int,
                                  measures: (T?) -> RequestMeasures = { _ in RequestMeasures() },
                                  _ body: () async throws -> T) async throws -> T {
        let core = self.core
        guard core.instrumented else { return try await body() }
        let start = Clocks.monotonicNanos()
        let plan = core.asyncRequestStarted(route: route.index, now: start)
        guard plan.measure else {
            // On the activity board all the same, so a stall on its thread names its route.
            core.threads.noteCooperativeThread()
            let token = core.board.enterTask(route: route.index, now: start)
            defer { core.board.exitTask(token) }
            do {
                let value = try await body()
                finish(route, status: status(value), start: start, reading: nil, weight: 0, measures: measures(value))
                return value
            } catch {
                finish(route, status: errorStatus(error), start: start, reading: nil, weight: 0, measures: measures(nil), error: error)
                throw error
            }
        }
        let counter = SuspensionCounter()
        let tally = RequestTally(route: core.routeName(route.index))
        var reading: StageMeter.Reading? = nil
        do {
            let value = try await RequestTally.$current.withValue(tally) { try await withTaskExecutorPreference(counter) {
                core.threads.noteCooperativeThread()
                let token = core.board.enterTask(route: route.index, now: Clocks.monotonicNanos())
                defer { core.board.exitTask(token) }
                let meter = StageMeter(counter, measureCPU: plan.measureCPU)
                do {
                    let value = try await body()
                    reading = meter.finish()
                    return value
                } catch {
                    reading = meter.finish()
                    throw error
                }
            } }
            finish(route, status: status(value), start: start, reading: reading, weight: plan.weight, poolWait: tally.poolWaitNanos, measures: measures(value))
            return value
        } catch {
            finish(route, status: errorStatus(error), start: start, reading: reading, weight: plan.weight, poolWait: tally.poolWaitNanos, measures: measures(nil), error: error)
            throw error
        }
    }

    /// Records a finished request; `weight` 0 for one that was not measured.
    private func finish(_ route: RouteID, status: Int, start: UInt64, reading: StageMeter.Reading?, weight: Int, poolWait: UInt64 = 0, measures: RequestMeasures,
                        error: (any Error)? = nil) {
        let latency = Clocks.monotonicNanos() &- start
        let message = status >= 500 ? error.map { "\($0)" } : nil
        let timeout = (error as? any TimeoutReporting)?.timeoutReason
        guard weight > 0 else {
            core.requestFinished(route: route.index, loopIndex: core.offLoopTally, .unmeasured(status: status, latencyNanos: latency, error: message, timeoutReason: timeout, measures: measures))
            return
        }
        let wall = reading?.wallNanos ?? 0
        let held = reading?.held == true
        if held { core.taskStats.recordHeld(route: route.index, nanos: wall, weight: weight) }
        core.requestFinished(route: route.index, loopIndex: core.offLoopTally, RequestRecord(
            status: status, latencyNanos: latency, queueNanos: latency &- min(wall, latency),
            computeNanos: held ? wall : 0, cpuNanos: held ? reading?.cpuNanos : nil, ioNanos: held ? 0 : wall - min(poolWait, wall),
            poolWaitNanos: held ? 0 : min(poolWait, wall),
            heldNanos: held ? wall : 0, asyncHeldNanos: held ? wall : 0, computed: held, weight: weight, error: message, timeoutReason: timeout,
            measures: measures
        ))
    }
}
