import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix
import LoopScopeDemo
import LoopScopeRuntime

/// `loopscope serve`: the demo application on the instrumented runtime.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the demo application on the instrumented runtime, with its control socket."
    )

    @OptionGroup var server: ServerOptions

    func run() async throws {
        // Caught from now on: a SIGTERM while the server starts stops it once started.
        let signals = await SignalWatch.start()
        LoggingSetup.bootstrap(toFile: nil)
        if server.workers > 1 {
            let status = try await Supervisor(options: server).run(signals: signals)
            if status != 0 { throw ExitCode(status) }
            return
        }
        let running = try await DemoServer.start(options: server, logger: Logger(label: "loopscope.serve"))
        // Written unbuffered: scripts and tests wait for this line to learn the port.
        FileHandle.standardOutput.write(Data("serving \(server.name) on http://\(server.host):\(running.server.httpPort ?? server.port)  control: \(running.server.controlSocketPath ?? "off")\n".utf8))
        await running.server.runUntilSignalled(signals)
        await running.stop()
    }
}
