import Foundation
import NIOCore
import NIOPosix
import NIOHTTP1
import NIOExtras
import NIOConcurrencyHelpers
import Logging
import LoopScopeWire
@_exported import UnixSignals
@_exported import LoopScopeAgent

/// An instrumented HTTP/1.1 server: routes, execution models, pools, probes and the control socket.
///
/// ```swift
/// let server = try LoopScopeServer(configuration: config, routes: routes, logger: logger)
/// try await server.start()
/// await server.runUntilSignalled()   // SIGINT or SIGTERM: drain, stop workers, remove the socket
/// ```
/// Thread-safe.
public final class LoopScopeServer: Sendable {
    let core: RuntimeCore
    private let state = NIOLockedValueBox(RunState())

    private struct RunState {
        var group: MultiThreadedEventLoopGroup?
        var channel: (any Channel)?
        /// Closes the listener and tells every connection to finish its request and close.
        var quiescing: ServerQuiescingHelper?
        var agent: LoopScopeAgent?
        var stopped = false
    }

    /// - Parameters:
    ///   - extraPools: application pools (e.g. database connections) to report and resize.
    public init(configuration: ServerConfiguration, routes: [Route], extraPools: [any WorkerPool] = [], logger: Logger = Logger(label: "loopscope")) throws(RuntimeError) {
        core = try RuntimeCore(configuration: configuration, routes: routes, extraPools: extraPools, logger: logger)
    }

    /// The bound HTTP port (useful when the configuration asked for port 0).
    public var httpPort: Int? { state.withLockedValue { $0.channel?.localAddress?.port } }

    /// The control socket's path, once started.
    public var controlSocketPath: String? { state.withLockedValue { $0.agent?.controlSocketPath } }

    /// Worker process ids of the process pool.
    public var processWorkerPIDs: [Int32] { core.processPool.workerPIDs }

    /// Binds the HTTP port and the control socket and starts the probes. If a step fails,
    /// everything started is released (the listener, the event loops, the probes, the
    /// watchdog, the control socket and the pools' workers) and the error thrown; the server
    /// is then stopped for good (make a new one to try again).
    public func start() async throws {
        let config = core.configuration
        let group = MultiThreadedEventLoopGroup(numberOfThreads: config.eventLoops)
        let loops = Array(group.makeIterator())
        var index: [ObjectIdentifier: Int] = [:]
        for (i, l) in loops.enumerated() { index[ObjectIdentifier(l)] = i }
        let loopIndex = index
        var listener: Listener? = nil
        var agent: LoopScopeAgent? = nil
        do {
            listener = try await listen(group: group, loopIndex: loopIndex)
            core.agent.address.withLockedValue { $0 = "\(config.host):\(listener?.channel.localAddress?.port ?? config.port)" }
            let started = LoopScopeAgent(core: core.agent)
            try await started.start(loops: loops)
            agent = started
        } catch {
            // Nothing of a failed start outlives it: `start(loops:)` has stopped what it began.
            state.withLockedValue { $0.stopped = true }
            try? await listener?.channel.close()
            listener = nil // before the loops: the quiescing helper completes a promise on one as it goes
            await shutDown(core.pools)
            try? await group.shutdownGracefully()
            throw error
        }
        state.withLockedValue { s in
            s.group = group
            s.channel = listener?.channel
            s.quiescing = listener?.quiescing
            s.agent = agent
        }
        core.logger.info("serving", metadata: ["address": "\(core.agent.address.withLockedValue { $0 })", "control": "\(agent?.controlSocketPath ?? "off")"])
    }

    /// The HTTP listener, and what drains its connections at shutdown.
    private struct Listener {
        var channel: any Channel
        var quiescing: ServerQuiescingHelper
    }

    /// Binds the HTTP port. The quiescing helper collects every accepted connection.
    private func listen(group: MultiThreadedEventLoopGroup, loopIndex: [ObjectIdentifier: Int]) async throws -> Listener {
        let config = core.configuration
        let quiescing = ServerQuiescingHelper(group: group)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiescing.makeServerChannelHandler(channel: channel))
                }
            }
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // Several worker processes listening on one port, the kernel spreading connections
            // (NIO has no named option for it).
            .serverChannelOption(.socket(SocketOptionLevel(SOL_SOCKET), SocketOptionName(SO_REUSEPORT)), value: config.reusePort ? 1 : 0)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try configureConnection(channel, loopIndex: loopIndex[ObjectIdentifier(channel.eventLoop)] ?? 0)
                }
            }
        do {
            return Listener(channel: try await bootstrap.bind(host: config.host, port: config.port).get(), quiescing: quiescing)
        } catch {
            throw RuntimeError.listen("\(config.host):\(config.port): \(error)")
        }
    }

    /// Sets up an accepted connection's pipeline: over the connection limit a 503 and nothing
    /// else; otherwise the connection guard (timeouts, counted closes), NIO's HTTP/1 server codec
    /// with its error handling, and the request handler for event loop `loopIndex`. On the
    /// channel's event loop. The fuzzer feeds this pipeline through an `EmbeddedChannel`.
    package func configureConnection(_ channel: any Channel, loopIndex: Int) throws {
        let pipeline = channel.pipeline.syncOperations
        let limits = core.configuration.connections
        guard core.connections.admit() else {
            try pipeline.addHandler(OverLimitHandler(limit: limits.maxConnections))
            return
        }
        channel.closeFuture.whenComplete { [core] _ in core.connections.closed() }
        try pipeline.addHandler(ConnectionGuard(limits: limits, stats: core.connections))
        try Self.addHTTPCodec(pipeline)
        try pipeline.addHandler(HTTPHandler(core: core, loopIndex: loopIndex))
    }

    /// NIO's HTTP/1 server pipeline with its error handling (a request it cannot parse is
    /// answered 400), except for a connection already closed: a part of a pipelined head still
    /// buffered when a drained connection closes fails to parse then, and NIO's 400 would be
    /// written after the pipeline handler finished quiescing (an assertion in debug builds, a
    /// failed write otherwise).
    static func addHTTPCodec(_ pipeline: ChannelPipeline.SynchronousOperations) throws {
        try pipeline.configureHTTPServerPipeline(withErrorHandling: false)
        try pipeline.addHandler(ClosedConnectionParseErrors())
        try pipeline.addHandler(HTTPServerProtocolErrorHandler())
    }

    /// Waits for SIGINT or SIGTERM (caught by `signals` from whenever it was started: start it
    /// before the server, so that one arriving during startup is not lost), then shuts down
    /// gracefully.
    public func runUntilSignalled(_ signals: SignalWatch? = nil) async {
        let watch = if let signals { signals } else { await SignalWatch.start() }
        await watch.wait()
        core.logger.info("signal received: draining")
        await shutdown()
    }

    /// Stops accepting connections and drains: idle keep-alive connections are closed at once,
    /// a connection with a request in flight answers it (with `connection: close`) and closes —
    /// NIO's HTTP pipeline does this on `ServerQuiescingHelper`'s quiesce event. Waits for every
    /// connection to end, up to the drain timeout; then stops the pools' workers and the probes,
    /// closes and removes the control socket.
    public func shutdown() async {
        guard var s = state.withLockedValue({ s -> RunState? in
            guard !s.stopped else { return nil }
            s.stopped = true
            let running = s
            s.quiescing = nil
            return running
        }) else { return }
        if let group = s.group, let quiescing = s.quiescing {
            let loop = group.next()
            let drained = loop.makePromise(of: Void.self)
            let giveUp = loop.scheduleTask(in: core.configuration.drainTimeout) { drained.succeed() }
            quiescing.initiateShutdown(promise: drained)
            try? await drained.futureResult.get()
            giveUp.cancel()
        }
        s.quiescing = nil // before the loops: the helper completes a promise on one as it goes
        await shutDown(core.pools)
        await s.agent?.stop()
        try? await s.group?.shutdownGracefully()
        core.logger.info("stopped")
    }

    // MARK: - In-process control (the same operations as the control socket)

    /// A snapshot of every figure.
    public func snapshot() -> Snapshot { core.agent.snapshot() }

    /// Switches a route's execution model for requests that start from now on.
    @discardableResult
    public func setModel(_ model: ExecutionModel, route: String, method: String = "GET", actor: String = "api") throws(WireError) -> ControlEvent {
        try core.setModel(method: method, path: route, model: model, actor: actor)
    }

    /// Resizes a pool.
    @discardableResult
    public func resizePool(_ pool: String, to size: Int, actor: String = "api") throws(WireError) -> ControlEvent {
        try core.agent.resize(pool: pool, size: size, actor: actor)
    }

    /// Sets a pool's queue limit.
    @discardableResult
    public func setQueueLimit(_ pool: String, to limit: Int, actor: String = "api") throws(WireError) -> ControlEvent {
        try core.agent.setLimit(pool: pool, limit: limit, actor: actor)
    }

    /// Closes the current second of every statistic now (tests use this instead of waiting).
    public func rolloverStatistics() { core.agent.rollover() }
}

/// Waits for one of a set of signals without killing the process.
public enum SignalWaiter {
    /// Returns when one of `signals` arrives; their default action (termination) is turned off
    /// while it waits.
    public static func wait(for signals: [UnixSignal] = [.sigint, .sigterm]) async {
        let watch = await SignalWatch.start(signals)
        await watch.wait()
        watch.cancel()
    }
}

/// Catches signals from the moment `start` returns, so one that arrives while a server is still
/// starting is not lost: `wait()` then returns at once. The signals come through
/// swift-service-lifecycle's `UnixSignalsSequence` (the dispatch sources ServiceGroup uses),
/// which returns only once the kernel will deliver them. (A process may start with SIGTERM
/// ignored — inherited from a parent that catches it through dispatch — hence `Entry` and
/// `Spawn` put the default back.) Thread-safe.
public final class SignalWatch: Sendable {
    private struct State {
        var fired = false
        var waiting: [CheckedContinuation<Void, Never>] = []
        var listening: Task<Void, Never>?
    }
    private let state = NIOLockedValueBox(State())
    private let signals: [UnixSignal]

    private init(signals: [UnixSignal]) { self.signals = signals }

    /// Starts catching `signals`; returns once they are caught.
    public static func start(_ signals: [UnixSignal] = [.sigint, .sigterm]) async -> SignalWatch {
        let watch = SignalWatch(signals: signals)
        let arrivals = await UnixSignalsSequence(trapping: signals)
        let listening = Task {
            for await _ in arrivals { watch.fire() }
        }
        watch.state.withLockedValue { $0.listening = listening }
        return watch
    }

    private func fire() {
        let waiting = state.withLockedValue { s -> [CheckedContinuation<Void, Never>] in
            s.fired = true
            defer { s.waiting.removeAll() }
            return s.waiting
        }
        for w in waiting { w.resume() }
    }

    /// Whether one of the signals has arrived.
    public var fired: Bool { state.withLockedValue { $0.fired } }

    /// Returns when one of the signals has arrived (at once if one already has).
    public func wait() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLockedValue { s -> Bool in
                if s.fired { return true }
                s.waiting.append(c)
                return false
            }
            if now { c.resume() }
        }
    }

    /// Stops catching: the signals' default actions are back.
    public func cancel() {
        state.withLockedValue { s in
            s.listening?.cancel()
            s.listening = nil
        }
        for sig in signals { signal(sig.rawValue, SIG_DFL) }
    }
}
