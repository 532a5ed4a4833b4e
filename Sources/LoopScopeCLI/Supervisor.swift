#if canImport(Glibc)
import Glibc
#endif
import CLoopScopeSys
import Foundation
import LoopScopeAgent
import LoopScopeDemo
import LoopScopeRuntime
import LoopScopeWire
import NIOConcurrencyHelpers
import NIOPosix

/// `loopscope serve --workers N`: N server processes sharing one port with `SO_REUSEPORT`,
/// each with its own loops, pools and control socket, announced as members of one group. A
/// worker that exits is restarted (`RestartPolicy`); a crash loop stops the group with exit
/// status 1; SIGTERM or SIGINT drains every worker (SIGTERM to each, SIGKILL after the drain
/// timeout) and exits 0. The embedded upstream stub runs here, once, for all of them.
final class Supervisor {
    private let options: ServerOptions
    private let executable: String
    private var children: [Int: pid_t] = [:]
    private var policy = RestartPolicy()
    /// Restarts due, by worker: when.
    private var pending: [Int: Double] = [:]

    init(options: ServerOptions) throws {
        self.options = options
        executable = WorkerCommand.currentExecutable.executable
    }

    /// Runs the group until a signal (0) or a crash loop (1).
    func run(signals: SignalWatch) async throws -> Int32 {
        let port = options.port == 0 ? try Self.freePort(host: options.host) : options.port
        let upstreamGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var upstream: UpstreamServer? = nil
        if options.embeddedUpstream {
            upstream = try await UpstreamServer.start(port: options.upstreamPort, delayMs: options.upstreamDelayMs, group: upstreamGroup)
        }
        let group = "\(options.name)/\(getpid())"
        let arguments = Self.workerArguments(CommandLine.arguments.dropFirst().map { $0 }, port: port, upstreamPort: upstream?.port)
        FileHandle.standardOutput.write(Data("supervising \(options.workers) workers of \(group) on http://\(options.host):\(port)\n".utf8))
        var metrics: SmallHTTPServer? = nil
        if let metricsPort = options.metricsPort {
            metrics = try await GroupMetricsServer.start(host: options.host, port: metricsPort, group: group, directory: options.controlDir ?? SocketDirectory.defaultPath(),
                                                         workers: options.workers, serverName: options.name)
            FileHandle.standardOutput.write(Data("the group's Prometheus metrics on http://\(options.host):\(metricsPort)/metrics\n".utf8))
        }
        for i in 0..<options.workers { try spawn(worker: i, arguments: arguments, group: group) }

        var status: Int32 = 0
        while !signals.fired {
            // Reap exited workers; schedule their restarts.
            for (i, pid) in children {
                var raw: Int32 = 0
                guard waitpid(pid, &raw, WNOHANG) == pid else { continue }
                children[i] = nil
                let now = Date().timeIntervalSince1970
                switch policy.exited(worker: i, at: now) {
                case .restart(let after):
                    log("worker \(i) (pid \(pid)) \(Self.describe(raw)); restarting in \(Int(after * 1000)) ms")
                    pending[i] = now + after
                case .giveUp(let why):
                    log("giving up: \(why)")
                    status = 1
                }
            }
            if status != 0 { break }
            let now = Date().timeIntervalSince1970
            for (i, due) in pending where due <= now {
                pending[i] = nil
                try spawn(worker: i, arguments: arguments, group: group)
            }
            try? await Task.sleep(nanoseconds: 50_000_000)
        }
        await metrics?.stop()
        stopAll()
        await upstream?.stop()
        try? await upstreamGroup.shutdownGracefully()
        return status
    }

    private func spawn(worker i: Int, arguments: [String], group: String) throws {
        let argv = [executable, "serve"] + arguments + ["--member-group", group, "--member-index", "\(i)", "--member-size", "\(options.workers)"]
        let pid: pid_t
        do {
            pid = try Spawn.start(executable, Array(argv.dropFirst()))
        } catch {
            throw CLIError("cannot start worker \(i): \(error)")
        }
        children[i] = pid
        log("worker \(i) started (pid \(pid))")
    }

    /// SIGTERM to every worker (each drains), SIGKILL to those still running after the drain
    /// timeout and 5 s more.
    private func stopAll() {
        for pid in children.values { kill(pid, SIGTERM) }
        let deadline = Date().addingTimeInterval(Double(options.configuration.drainTimeout.nanoseconds) / 1e9 + 5)
        while !children.isEmpty {
            for (i, pid) in children {
                var raw: Int32 = 0
                if waitpid(pid, &raw, WNOHANG) == pid { children[i] = nil }
            }
            if Date() > deadline {
                for pid in children.values { kill(pid, SIGKILL); var raw: Int32 = 0; waitpid(pid, &raw, 0) }
                children.removeAll()
            }
            usleep(20_000)
        }
        log("all workers stopped")
    }

    private func log(_ line: String) {
        FileHandle.standardError.write(Data("loopscope serve: \(line)\n".utf8))
    }

    /// The worker's arguments: the supervisor's own, without what only it decides (the worker
    /// count, the port, the upstream), then those.
    static func workerArguments(_ own: [String], port: Int, upstreamPort: Int?) -> [String] {
        let withValue: Set<String> = ["--workers", "--port", "--metrics-port", "--upstream-port", "--member-group", "--member-index", "--member-size"]
        let flags: Set<String> = ["--embedded-upstream", "--no-embedded-upstream"]
        var out: [String] = []
        var i = own.first == "serve" ? 1 : 0
        while i < own.count {
            let a = own[i]
            let name = String(a.split(separator: "=", maxSplits: 1).first ?? "")
            if withValue.contains(a) { i += 2; continue }
            if withValue.contains(name) || flags.contains(a) { i += 1; continue }
            out.append(a)
            i += 1
        }
        out += ["--port", "\(port)"]
        if let upstreamPort { out += ["--no-embedded-upstream", "--upstream-port", "\(upstreamPort)"] }
        return out
    }

    static func describe(_ status: Int32) -> String {
        let signal = status & 0x7f
        return signal == 0 ? "exited with status \((status >> 8) & 0xff)" : "was killed by signal \(signal)"
    }

    /// A port free on `host` now (bound and released: every worker then binds it with SO_REUSEPORT).
    static func freePort(host: String) throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr(host)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard bound else { throw CLIError("cannot find a free port on \(host): \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
