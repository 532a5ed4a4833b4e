import NIOCore
import NIOConcurrencyHelpers
import Logging
import LoopScopeWire

/// LoopScope's instrumentation, embeddable in any SwiftNIO server: a lag probe on each event
/// loop you give it and on the cooperative pool, the watchdog that samples stalled threads'
/// stacks (stall sites), per-second statistics, diagnoses, and the control socket that
/// `loopscope attach`, `dump` and `ctl` speak to.
///
/// ```swift
/// let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
/// let agent = try await LoopScopeAgent.start(name: "my-service", watching: group)
/// // … your server on `group` …
/// await agent.stop()
/// ```
/// Thread-safe.
public final class LoopScopeAgent: Sendable {
    package let core: AgentCore
    private let state = NIOLockedValueBox(Running())

    private struct Running {
        var control: ControlServer?
        var ticker: Ticker?
        var stopped = false
    }

    /// Whether `stop()` stops the offload thread pool (the agent made it; a runtime that
    /// lends its own pool stops it itself).
    private let ownsOffloadPool: Bool

    package init(core: AgentCore, ownsOffloadPool: Bool = false) {
        self.core = core
        self.ownsOffloadPool = ownsOffloadPool
    }

    /// Starts watching every event loop of `group` and the cooperative pool, and opens the
    /// control socket. Stop it with `stop()`.
    public static func start(_ configuration: AgentConfiguration, watching group: any EventLoopGroup,
                             logger: Logger = Logger(label: "loopscope")) async throws -> LoopScopeAgent {
        // A worker process whose main did not serve jobs would go on to start a second server.
        if ProcessWorker.isWorker() {
            throw RuntimeError.invalidConfiguration("this process was started as a LoopScope worker, but main did not call ProcessWorker.runIfRequested(offloading:) before starting the agent")
        }
        let loops = Array(group.makeIterator())
        let core = try AgentCore(configuration: configuration, loopCount: loops.count, routes: [], logger: logger)
        let pool = ThreadPool(size: configuration.offloadThreads, queueLimit: configuration.offloadQueueLimit)
        var pools: [any WorkerPool] = [pool]
        core.setOffloadPool(pool)
        if configuration.offloadProcesses > 0 {
            let processes = ProcessPool(size: configuration.offloadProcesses, queueLimit: configuration.offloadQueueLimit,
                                        command: configuration.offloadWorkerCommand, events: core.events, jobTimeout: configuration.offloadProcessTimeout)
            pools.append(processes)
            core.setOffloadProcessPool(processes)
        }
        core.register(pools: pools)
        let agent = LoopScopeAgent(core: core, ownsOffloadPool: true)
        do {
            try await agent.start(loops: loops)
        } catch {
            core.setOffloadPool(nil)
            core.setOffloadProcessPool(nil)
            await shutDown(pools)
            throw error
        }
        return agent
    }

    /// `start(_:watching:logger:)` with the default configuration under `name`.
    public static func start(name: String, watching group: any EventLoopGroup, logger: Logger = Logger(label: "loopscope")) async throws -> LoopScopeAgent {
        try await start(AgentConfiguration(name: name), watching: group, logger: logger)
    }

    /// Starts the probes on `loops` (index i is `loop i`), the watchdog, the once-a-second
    /// rollover and the control socket. If the control socket cannot open, everything started
    /// (probes, watchdog) is stopped again, the agent is marked stopped and the error thrown.
    package func start(loops: [any EventLoop]) async throws {
        let config = core.configuration
        let core = self.core
        core.loopIndices.withLockedValue { index in
            for (i, loop) in loops.enumerated() { index[ObjectIdentifier(loop)] = i }
        }
        if config.instrumented {
            for (i, loop) in loops.enumerated() { loop.execute { core.threads.register(executor: i) } }
            let threads = core.threads
            var watched = loops.enumerated().map { i, loop in
                Watchdog.Watched(name: "loop \(i)", stats: core.loopStats[i], probe: .loop(loop, stats: core.loopStats[i]),
                                 runningStage: { core.board.onLoop(i) }, threads: { threads.threads(of: i) }, idleSyscalls: Watchdog.loopIdleSyscalls)
            }
            watched.append(Watchdog.Watched(name: "tasks", stats: core.taskStats, probe: .cooperativePool(stats: core.taskStats, threads: threads),
                                            runningStage: { core.board.longestTask() }, threads: { threads.threads(of: threads.tasksIndex) },
                                            idleSyscalls: Watchdog.poolIdleSyscalls, routeOnThread: { core.board.task(onThread: $0) },
                                            forget: { threads.forget($0, executor: threads.tasksIndex) }))
            let dog = Watchdog(watched: watched, probeInterval: config.lagInterval, quietProbeInterval: config.quietLagInterval,
                               sampleThresholdNanos: UInt64(config.stallSampleThreshold.nanoseconds),
                               reportThresholdNanos: UInt64(config.watchdogThreshold.nanoseconds), sampleStacks: config.sampleStallStacks,
                               routeName: { core.routeName($0) }, events: core.events)
            for w in watched { w.stats.measureCPU { Watchdog.cpuReading(of: w) } }
            dog.start()
            core.watchdog.withLockedValue { $0 = dog }
        }
        var control: ControlServer? = nil
        if let controlConfig = config.control {
            do {
                control = try await ControlServer.start(core: core, configuration: controlConfig)
            } catch {
                core.watchdog.withLockedValue { $0?.stop() }
                state.withLockedValue { $0.stopped = true }
                throw error
            }
        }
        state.withLockedValue { s in
            s.control = control
            s.ticker = Ticker { core.rollover() }
        }
    }

    /// Stops the probes, the watchdog and the rollover, and closes and removes the control
    /// socket; stops the offload thread pool if the agent made it (pools lent by their owner,
    /// as LoopScope's runtime lends its own, are stopped by that owner).
    public func stop() async {
        let taken = state.withLockedValue { s -> Running? in
            guard !s.stopped else { return nil }
            s.stopped = true
            return s
        }
        guard let s = taken else { return }
        if ownsOffloadPool {
            // Sections offloaded from now on run inline; queued ones finish first.
            let pools: [any WorkerPool] = [core.offloadPool as (any WorkerPool)?, core.offloadProcessPool].compactMap { $0 }
            core.setOffloadPool(nil)
            core.setOffloadProcessPool(nil)
            await shutDown(pools)
        }
        s.ticker?.stop()
        core.watchdog.withLockedValue { $0?.stop() }
        await s.control?.stop()
    }

    /// A snapshot of every figure.
    public func snapshot() -> Snapshot { core.snapshot() }

    /// Shows `pool` (a `ConnectionPool` of your database's or upstream's connections, or any
    /// `WorkerPool`) among the pools: its figures, resizing by the operator, its diagnoses.
    /// Its owner shuts it down. A second pool of the same name is refused.
    public func register(_ pool: any WorkerPool) throws {
        guard core.pool(named: pool.name) == nil else {
            throw RuntimeError.invalidConfiguration("a pool named '\(pool.name)' is already registered")
        }
        core.register(pools: [pool])
    }

    /// The control socket's path, once started.
    public var controlSocketPath: String? { state.withLockedValue { $0.control?.socketPath } }

    /// Shown in the dashboard's header, e.g. `127.0.0.1:8080`.
    public func setAddress(_ address: String) { core.address.withLockedValue { $0 = address } }

    /// Closes the current second of every statistic now (tests use this instead of waiting).
    public func rolloverStatistics() { core.rollover() }
}
