import ArgumentParser
import NIOCore
import NIOPosix
import LoopScopeDemo
import LoopScopeRuntime

/// `loopscope upstream`: the slow upstream HTTP service the demo's I/O routes call.
struct UpstreamCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upstream",
        abstract: "Run the upstream stub: answers every request after a delay, without blocking."
    )

    @Option(parsing: .unconditional, help: "Port to listen on.") var port = 8081
    @Option(parsing: .unconditional, help: "Delay before each answer, milliseconds (per request: ?delay_ms=).") var delayMs = 20

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535") }
        guard (0...10_000).contains(delayMs) else { throw ValidationError("--delay-ms must be 0...10000") }
    }

    func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try await UpstreamServer.start(port: port, delayMs: delayMs, group: group)
        print("upstream stub on http://127.0.0.1:\(server.port), \(delayMs) ms per answer")
        await SignalWaiter.wait()
        await server.stop()
        try? await group.shutdownGracefully()
    }
}
