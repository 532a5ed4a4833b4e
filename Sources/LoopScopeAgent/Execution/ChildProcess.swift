#if canImport(Glibc)
import Glibc
#endif
import CLoopScopeSys

/// A child process whose standard input is a pipe this process holds: closing it (or this
/// process dying, even by `kill -9`) tells a child that watches its input to shut down.
/// Its output and errors go to a log file. It inherits no other descriptor (`Spawn`).
package struct ChildProcess: Sendable {
    package let pid: pid_t
    package let logPath: String
    private let stdinWriter: Int32

    /// Starts `executable` (a path) with `arguments` (not counting argv[0]) and this
    /// process's environment plus `environment`.
    package static func spawn(_ executable: String, _ arguments: [String], environment: [String: String] = [:], logPath: String) throws(SpawnError) -> ChildProcess {
        let input = try Spawn.pipe()
        defer { close(input.read) }
        do {
            let pid = try Spawn.start(executable, arguments, environment: environment, stdin: .descriptor(input.read), stdout: .file(logPath), stderr: .output)
            return ChildProcess(pid: pid, logPath: logPath, stdinWriter: input.write)
        } catch {
            close(input.write)
            throw error
        }
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
