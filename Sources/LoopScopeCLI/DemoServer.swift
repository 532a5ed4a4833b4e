import Logging
import NIOCore
import NIOPosix
import LoopScopeDemo
import LoopScopeRuntime

/// The demo application wired up: upstream stub, database, server. Used by `serve` and `demo`.
struct DemoServer {
    let server: LoopScopeServer
    let upstream: UpstreamServer?
    let clientGroup: MultiThreadedEventLoopGroup

    static func start(options: ServerOptions, logger: Logger) async throws -> DemoServer {
        // The stub and the upstream client get a loop of their own so a blocked server loop
        // delays only the server, as it would with a real remote service.
        let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var upstream: UpstreamServer? = nil
        if options.embeddedUpstream {
            do {
                upstream = try await UpstreamServer.start(port: options.upstreamPort, delayMs: options.upstreamDelayMs, group: clientGroup)
            } catch {
                try? await clientGroup.shutdownGracefully()
                throw CLIError("cannot start the upstream stub on port \(options.upstreamPort): \(error) (use --upstream-port, or --no-embedded-upstream with `loopscope upstream` running)")
            }
        }
        let client = UpstreamClient(port: upstream?.port ?? options.upstreamPort, group: clientGroup,
                                    connections: options.upstreamConnections, callTimeout: .milliseconds(Int64(options.upstreamTimeoutMs)))
        try DemoDatabase.seed()
        _ = CPUWork.roundsPerMillisecond // calibrate now, not in the first /hash
        DemoDatabase.pool.resize(to: options.dbConnections)
        let server = try LoopScopeServer(configuration: options.configuration, routes: try DemoApp.routes(upstream: client), extraPools: [DemoDatabase.pool, client.pool], logger: logger)
        do {
            try await server.start()
        } catch {
            await upstream?.stop()
            try? await clientGroup.shutdownGracefully()
            throw error
        }
        return DemoServer(server: server, upstream: upstream, clientGroup: clientGroup)
    }

    func stop() async {
        await server.shutdown()
        await upstream?.stop()
        try? await clientGroup.shutdownGracefully()
    }
}
