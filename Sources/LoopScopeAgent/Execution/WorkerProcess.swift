#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import CLoopScopeSys

/// How to start a worker process: normally this same executable with `ProcessWorker.argument`.
public struct WorkerCommand: Sendable, Equatable {
    public var executable: String
    public var arguments: [String]

    public init(executable: String, arguments: [String] = [ProcessWorker.argument]) {
        self.executable = executable
        self.arguments = arguments
    }

    /// The running executable in worker mode.
    public static var currentExecutable: WorkerCommand {
        WorkerCommand(executable: runningExecutable)
    }

    /// The path of the running executable.
    public static var runningExecutable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// The path of another product of the same build: beside the running executable, or
    /// beside the test bundle when that is what runs (`….xctest/…`). It may not exist.
    public static func siblingExecutable(named name: String) -> String {
        var dir = URL(fileURLWithPath: runningExecutable).deletingLastPathComponent()
        if dir.lastPathComponent.hasSuffix(".xctest") { dir = dir.deletingLastPathComponent() }
        return dir.appendingPathComponent(name).path
    }
}

/// One running worker process and the two pipes to it. Owned by one driver thread; not shared.
package final class WorkerProcess {
    package let pid: pid_t
    private let toWorker: Int32
    private let fromWorker: Int32
    private var reaped = false
    /// Duration of the last `call`, for deciding whether to poll for the next reply.
    private var lastCallNanos: UInt64 = 0
    /// How long `call` may poll for a reply before sleeping (0: never).
    private let spinNanos: UInt64

    private init(pid: pid_t, toWorker: Int32, fromWorker: Int32, spinNanos: UInt64) {
        self.spinNanos = spinNanos
        self.pid = pid
        self.toWorker = toWorker
        self.fromWorker = fromWorker
    }

    /// Spawns a worker. Its stdin and stdout are pipes whose other ends only this process holds.
    /// `spinNanos`: the polling window of both ends of the pipe (see `PoolPolling`).
    package static func spawn(_ command: WorkerCommand, spinNanos: UInt64) throws(RuntimeError) -> WorkerProcess {
        do throws(SpawnError) {
            let input = try Spawn.pipe()
            let output: (read: Int32, write: Int32)
            do { output = try Spawn.pipe() } catch { close(input.read); close(input.write); throw error }
            let pid: pid_t
            do throws(SpawnError) {
                // Standard error is the server's: a worker's crash report lands in its log.
                pid = try Spawn.start(command.executable, command.arguments, environment: [PoolPolling.environmentKey: String(spinNanos)],
                                      stdin: .descriptor(input.read), stdout: .descriptor(output.write))
            } catch {
                close(input.read); close(input.write); close(output.read); close(output.write)
                throw error
            }
            close(input.read)
            close(output.write)
            return WorkerProcess(pid: pid, toWorker: input.write, fromWorker: output.read, spinNanos: spinNanos)
        } catch {
            throw RuntimeError.spawnFailed(error.description)
        }
    }

    /// How a call ended.
    package enum CallResult {
        case reply(WorkerProtocol.Reply)
        /// The worker died or broke the protocol.
        case died
        /// No reply within the timeout (the worker is still running the job).
        case timedOut
    }

    /// Sends a job and blocks for the reply, at most `timeoutNanos` (0: no limit). Called by
    /// one driver thread at a time. Polls for the reply before sleeping only while the last
    /// call was within the polling window, so short jobs round-trip without sleeps and
    /// wake-ups and long ones cost no polling.
    package func call(_ request: [UInt8], timeoutNanos: UInt64 = 0) -> CallResult {
        let t0 = Clocks.monotonicNanos()
        let spin = PoolPolling.window(spinNanos, afterWaitOf: lastCallNanos)
        guard PipeIO.writeFrame(toWorker, request) else { return .died }
        if timeoutNanos > 0 {
            if spin > 0 { PipeIO.spinUntilReadable(fromWorker, nanos: spin) }
            guard PipeIO.waitReadable(fromWorker, until: t0 &+ timeoutNanos) else { return .timedOut }
        }
        guard let frame = PipeIO.readFrame(fromWorker, spinNanos: timeoutNanos > 0 ? 0 : spin), let reply = WorkerProtocol.parseReply(frame) else { return .died }
        lastCallNanos = Clocks.monotonicNanos() &- t0
        return .reply(reply)
    }

    /// Whether the process is still running (reaps it if it exited).
    package var isAlive: Bool {
        if reaped { return false }
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        if r == pid || (r < 0 && errno == ECHILD) {
            reaped = true
            return false
        }
        return true
    }

    /// Resident memory from /proc, bytes (0 when unknown).
    package static func residentBytes(pid: pid_t) -> UInt64 {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = UInt64(fields[1]) else { return 0 }
        return pages * UInt64(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Closes the pipes (the worker exits on end of input) and reaps the process; kills it
    /// if it has not exited within `graceNanos`.
    package func stop(graceNanos: UInt64 = 2_000_000_000) {
        close(toWorker)
        close(fromWorker)
        let deadline = Clocks.monotonicNanos() + graceNanos
        while isAlive {
            if Clocks.monotonicNanos() > deadline {
                kill(pid, SIGKILL)
                var status: Int32 = 0
                waitpid(pid, &status, 0)
                reaped = true
                return
            }
            usleep(2000)
        }
    }

    /// Releases the pipes of a worker that already died.
    package func discard() {
        close(toWorker)
        close(fromWorker)
        if !reaped {
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            reaped = true
        }
    }
}
