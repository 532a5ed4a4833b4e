import LoopScopeWire

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

    /// Measures one request of `route` handled by async code (a Hummingbird or Vapor handler),
    /// on the cooperative pool: in flight while `body` runs; then its latency and status, and —
    /// when `body` never suspended, so it held its cooperative-pool thread throughout (CPU work
    /// or a blocking call in async code: fake async) — that held time and its CPU time, charged
    /// to the route on `tasks`. A body that awaited counts as I/O.
    ///
    /// `body` runs in the current task, with a task executor that counts its suspensions (on
    /// the same cooperative pool; entering it costs one hop). `status` maps the result to an
    /// HTTP status, `errorStatus` a thrown error.
    public func measureRequest<T>(_ route: RouteID, status: (T) -> Int, errorStatus: (any Error) -> Int,
                                  _ body: () async throws -> T) async throws -> T {
        let core = self.core
        guard core.instrumented else { return try await body() }
        let tally = core.offLoopTally
        let measureCPU = core.requestStarted(route: route.index, loopIndex: tally)
        let start = Clocks.monotonicNanos()
        let counter = SuspensionCounter()
        var reading: StageMeter.Reading? = nil
        do {
            let value = try await withTaskExecutorPreference(counter) {
                core.threads.noteCooperativeThread()
                let token = core.board.enterTask(route: route.index, now: Clocks.monotonicNanos())
                defer { core.board.exitTask(token) }
                let meter = StageMeter(counter, measureCPU: measureCPU)
                do {
                    let value = try await body()
                    reading = meter.finish()
                    return value
                } catch {
                    reading = meter.finish()
                    throw error
                }
            }
            finish(route, status: status(value), start: start, reading: reading)
            return value
        } catch {
            finish(route, status: errorStatus(error), start: start, reading: reading)
            throw error
        }
    }

    private func finish(_ route: RouteID, status: Int, start: UInt64, reading: StageMeter.Reading?) {
        let latency = Clocks.monotonicNanos() &- start
        let wall = reading?.wallNanos ?? 0
        let held = reading?.held == true
        if held { core.taskStats.recordHeld(route: route.index, nanos: wall) }
        core.requestFinished(route: route.index, loopIndex: core.offLoopTally, RequestRecord(
            status: status, latencyNanos: latency, queueNanos: latency &- min(wall, latency),
            computeNanos: held ? wall : 0, cpuNanos: held ? reading?.cpuNanos : nil, ioNanos: held ? 0 : wall,
            heldNanos: held ? wall : 0, asyncHeldNanos: held ? wall : 0, computed: held
        ))
    }
}
