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
final class HummingbirdDemoProcess: Sendable {
    static let executableName = "loopscope-hummingbird-demo"

    let pid: pid_t
    let logPath: String
    let controlDir: String
    private let stdinWriter: Int32

    private init(pid: pid_t, logPath: String, controlDir: String, stdinWriter: Int32) {
        self.pid = pid
        self.logPath = logPath
        self.controlDir = controlDir
        self.stdinWriter = stdinWriter
    }

    /// The executable beside the running `loopscope` (both are products of the same build).
    static func executable() throws -> String {
        let me = WorkerCommand.currentExecutable.executable
        let path = URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent(executableName).path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw CLIError("\(path) not found: build it beside loopscope with `swift build -c release --product \(executableName)` (or without -c release for a debug loopscope)")
        }
        return path
    }

    static func start(port: Int, controlDir: String, offloadThreads: Int) throws -> HummingbirdDemoProcess {
        let executable = try executable()
        let logPath = NSTemporaryDirectory() + "loopscope-demo-hummingbird-\(getpid()).log"
        var input: [Int32] = [0, 0]
        guard pipe(&input) == 0 else { throw CLIError("pipe: \(String(cString: strerror(errno)))") }
        _ = fcntl(input[1], F_SETFD, FD_CLOEXEC)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input[0], 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        _ = loopscope_spawn_close_from(&actions, 3)
        let argv = [executable, "--port", "\(port)", "--name", "hummingbird-demo", "--control-dir", controlDir,
                    "--offload-threads", "\(offloadThreads)", "--exit-on-stdin-eof"]
        let env = ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let rc = withCStrings(argv) { cargv in withCStrings(env) { cenv in posix_spawn(&pid, executable, &actions, nil, cargv, cenv) } }
        close(input[0])
        guard rc == 0 else {
            close(input[1])
            throw CLIError("cannot start \(executable): \(String(cString: strerror(rc)))")
        }
        return HummingbirdDemoProcess(pid: pid, logPath: logPath, controlDir: controlDir, stdinWriter: input[1])
    }

    /// Waits for its control socket and then for its HTTP address (set once it listens).
    func waitUntilServing(timeoutSeconds: Double) async throws -> (socket: String, httpPort: Int) {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        var socket: String? = nil
        while Date() < deadline {
            guard isRunning else { throw CLIError("\(Self.executableName) exited at start:\n\(logTail())") }
            if socket == nil { socket = SocketDirectory.list(controlDir).first { $0.pid == pid }?.socket }
            if let socket, let client = try? await ControlClient.connect(path: socket) {
                let snapshot = try? await client.snapshot()
                await client.close()
                if let address = snapshot?.server.address, let port = address.split(separator: ":").last.flatMap({ Int($0) }), port > 0 {
                    return (socket, port)
                }
            }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        throw CLIError("\(Self.executableName) was not serving after \(Int(timeoutSeconds)) s:\n\(logTail())")
    }

    var isRunning: Bool {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == 0
    }

    /// Ends its input (a graceful shutdown), then SIGKILL after 5 s; reaps it.
    func stop() {
        close(stdinWriter)
        let deadline = Date().addingTimeInterval(5)
        while isRunning {
            if Date() > deadline {
                kill(pid, SIGKILL)
                var status: Int32 = 0
                waitpid(pid, &status, 0)
                break
            }
            usleep(20_000)
        }
        try? FileManager.default.removeItem(atPath: logPath)
    }

    private func logTail() -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(20).joined(separator: "\n")
    }
}
