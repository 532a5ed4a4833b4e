import Foundation
import LoopScopeRuntime
#if canImport(Glibc)
import Glibc
#endif

/// A real `loopscope serve` process on free ports with a private control directory.
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    let controlDir: String
    private(set) var port = 0
    private let output = Pipe()

    var socketPath: String? {
        (try? FileManager.default.contentsOfDirectory(atPath: controlDir))?.first { $0.hasSuffix(".sock") }.map { controlDir + "/" + $0 }
    }

    init(extra: [String] = [], directory: String? = nil) throws {
        controlDir = directory ?? NSTemporaryDirectory() + "ls-e2e-\(UUID().uuidString.prefix(8))"
        process.executableURL = URL(fileURLWithPath: Binaries.loopscope)
        process.arguments = ["serve", "--port", "0", "--upstream-port", "0", "--control-dir", controlDir, "--name", "e2e"] + extra
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let handle = output.fileHandleForReading
        var text = ""
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, !text.contains("\n") {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let range = text.range(of: #"127\.0\.0\.1:(\d+)"#, options: .regularExpression),
              let p = Int(text[range].split(separator: ":").last!) else {
            throw E2EError("server did not start: \(text)")
        }
        port = p
    }

    /// SIGTERM, then SIGKILL if it has not exited within 15 s (a test must never wait forever).
    func terminate() {
        if process.isRunning {
            process.terminate()
            let deadline = Date().addingTimeInterval(15)
            while process.isRunning, Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: controlDir)
    }
}

struct E2EError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

enum Binaries {
    static var loopscope: String { WorkerCommand.siblingExecutable(named: "loopscope") }

    /// Runs a command to completion; returns status and output.
    @discardableResult
    static func run(_ path: String, _ args: [String], environment: [String: String]? = nil) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        if let environment { p.environment = environment }
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Runs a command that may leave a daemon behind (tmux starts its server): spawned with
    /// posix_spawn, output to /dev/null, and reaped with a blocking waitpid on its own pid.
    @discardableResult
    static func launch(_ path: String, _ args: [String]) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd in [Int32(0), 1, 2] { posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0) }
        let argv = ([path] + args).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, nil, argv, nil)
        guard rc == 0 else { throw E2EError("cannot run \(path): \(rc)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status
    }

    static func which(_ name: String) -> String? {
        for dir in ["/usr/bin", "/usr/local/bin", "/bin", "/usr/sbin"] where FileManager.default.isExecutableFile(atPath: dir + "/" + name) {
            return dir + "/" + name
        }
        return nil
    }
}
