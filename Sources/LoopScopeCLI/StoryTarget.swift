#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import CLoopScopeSys
import LoopScopeAgent
import LoopScopeClient
import LoopScopeDemo
import LoopScopeWire

/// The running server a demo story plays against: its control socket and HTTP port.
struct StoryTarget: Sendable {
    let socket: String
    let httpPort: Int
    let stop: @Sendable () async -> Void

    /// LoopScope's own runtime with the demo's routes, in this process.
    static func loopscope(port: Int, controlDir: String, threads: Int) async throws -> StoryTarget {
        var options = try ServerOptions.parse(["--name", "loopscope-demo", "--port", "\(port)", "--upstream-port", "0", "--loops", "1",
                                               "--threads", "\(threads)", "--processes", "2", "--control-dir", controlDir])
        options.uninstrumented = false
        let running = try await DemoServer.start(options: options, logger: Logger(label: "loopscope.demo"))
        guard let socket = running.server.controlSocketPath, let httpPort = running.server.httpPort else {
            await running.stop()
            throw CLIError("the demo server did not start")
        }
        return StoryTarget(socket: socket, httpPort: httpPort, stop: { await running.stop() })
    }

    /// The Hummingbird service in demo/hummingbird, started as a process of its own (the
    /// `loopscope` tool does not link Hummingbird), found next to this executable.
    static func hummingbird(port: Int, controlDir: String, threads: Int) async throws -> StoryTarget {
        let app = try HummingbirdDemoProcess.start(port: port, controlDir: controlDir, offloadThreads: threads)
        do {
            let (socket, httpPort) = try await app.waitUntilServing(timeoutSeconds: 30)
            return StoryTarget(socket: socket, httpPort: httpPort, stop: { app.stop() })
        } catch {
            app.stop()
            throw error
        }
    }
}

/// `loopscope-hummingbird-demo` as a child process: its standard input is a pipe only we hold
/// (it shuts down when that ends, so it never outlives us), its output goes to a log file.
struct HummingbirdDemoProcess: Sendable {
    static let executableName = "loopscope-hummingbird-demo"

    let child: ChildProcess
    let controlDir: String

    /// The executable beside the running `loopscope` (both are products of the same build).
    static func executable() throws -> String {
        let path = WorkerCommand.siblingExecutable(named: executableName)
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw CLIError("\(path) not found: build it beside loopscope with `swift build -c release --product \(executableName)` (or without -c release for a debug loopscope)")
        }
        return path
    }

    static func start(port: Int, controlDir: String, offloadThreads: Int) throws -> HummingbirdDemoProcess {
        let logPath = NSTemporaryDirectory() + "loopscope-demo-hummingbird-\(getpid()).log"
        do {
            let child = try ChildProcess.spawn(try executable(), ["--port", "\(port)", "--name", "hummingbird-demo", "--control-dir", controlDir,
                                                                  "--offload-threads", "\(offloadThreads)", "--exit-on-stdin-eof", "--postgres"], logPath: logPath)
            return HummingbirdDemoProcess(child: child, controlDir: controlDir)
        } catch let e as SpawnError {
            throw CLIError(e.description)
        }
    }

    /// Waits for its control socket and then for its HTTP address (set once it listens).
    func waitUntilServing(timeoutSeconds: Double) async throws -> (socket: String, httpPort: Int) {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        var socket: String? = nil
        while Date() < deadline {
            guard child.isRunning else { throw CLIError("\(Self.executableName) exited at start:\n\(child.logTail())") }
            if socket == nil { socket = SocketDirectory.list(controlDir).first { $0.pid == child.pid }?.socket }
            if let socket, let client = try? await ControlClient.connect(path: socket) {
                let snapshot = try? await client.snapshot()
                await client.close()
                if let address = snapshot?.server.address, let port = address.split(separator: ":").last.flatMap({ Int($0) }), port > 0 {
                    return (socket, port)
                }
            }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        throw CLIError("\(Self.executableName) was not serving after \(Int(timeoutSeconds)) s:\n\(child.logTail())")
    }

    /// Ends its input (a graceful shutdown, which stops its PostgreSQL too), then SIGKILL after
    /// 15 s; removes its log.
    func stop() {
        child.stop(graceSeconds: 15)
        try? FileManager.default.removeItem(atPath: child.logPath)
    }
}
