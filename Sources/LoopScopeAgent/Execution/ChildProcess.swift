#if canImport(Glibc)
import Glibc
#endif
import CLoopScopeSys

/// A child process whose standard input is a pipe this process holds: closing it (or this
/// process dying, even by `kill -9`) tells a child that watches its input to shut down.
/// Its output and errors go to a log file. It inherits no other descriptor (NIO's accepted
/// sockets are not close-on-exec; a child holding one would keep a client's connection open).
package struct ChildProcess: Sendable {
    package let pid: pid_t
    package let logPath: String
    private let stdinWriter: Int32

    /// Starts `executable` (a path) with `arguments` (not counting argv[0]) and this
    /// process's environment plus `environment`.
    package static func spawn(_ executable: String, _ arguments: [String], environment: [String: String] = [:], logPath: String) throws(ChildProcessError) -> ChildProcess {
        var input: [Int32] = [0, 0]
        guard pipe(&input) == 0 else { throw ChildProcessError("pipe: \(String(cString: strerror(errno)))") }
        _ = fcntl(input[1], F_SETFD, FD_CLOEXEC)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input[0], 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        _ = loopscope_spawn_close_from(&actions, 3)
        var env: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let text = String(cString: entry)
            if let eq = text.firstIndex(of: "=") { env[String(text[..<eq])] = String(text[text.index(after: eq)...]) }
            p += 1
        }
        for (k, v) in environment { env[k] = v }
        var pid: pid_t = 0
        let argv = [executable] + arguments
        let rc = withCStrings(argv) { cargv in withCStrings(env.map { "\($0.key)=\($0.value)" }) { cenv in posix_spawn(&pid, executable, &actions, nil, cargv, cenv) } }
        close(input[0])
        guard rc == 0 else {
            close(input[1])
            throw ChildProcessError("cannot start \(executable): \(String(cString: strerror(rc)))")
        }
        return ChildProcess(pid: pid, logPath: logPath, stdinWriter: input[1])
    }

    /// Whether it has not exited yet (reaps it if it has).
    package var isRunning: Bool {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == 0
    }

    /// Ends its input, for a child that reads it to its end. Call once, and not with `stop`.
    package func closeInput() { close(stdinWriter) }

    /// Ends its input (the child's cue to shut down gracefully), waits up to `graceSeconds`
    /// for it to exit, then SIGKILLs it; reaps it.
    package func stop(graceSeconds: Double = 5) {
        close(stdinWriter)
        let deadline = Clocks.monotonicNanos() + UInt64(graceSeconds * 1e9)
        while isRunning {
            if Clocks.monotonicNanos() > deadline {
                kill(pid, SIGKILL)
                var status: Int32 = 0
                waitpid(pid, &status, 0)
                return
            }
            usleep(20_000)
        }
    }

    /// The last `lines` lines of its log.
    package func logTail(_ lines: Int = 20) -> String {
        guard let f = fopen(logPath, "r") else { return "" }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buffer, 1, buffer.count, f)
            if n <= 0 { break }
            bytes += buffer[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").suffix(lines).joined(separator: "\n")
    }
}

/// Why a child process could not be started.
package struct ChildProcessError: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}
