import Foundation
import NIOCore
import NIOPosix
import LoopScopeDemo
@testable import LoopScopeRuntime
@testable import LoopScopeAgent
import LoopScopeWire

/// A demo server on a free port with its upstream stub, for in-process tests.
final class TestServer: @unchecked Sendable {
    let server: LoopScopeServer
    let upstream: UpstreamServer
    let group: MultiThreadedEventLoopGroup
    let controlDir: String

    var port: Int { server.httpPort! }

    static func start(loops: Int = 1, threads: Int = 2, processes: Int = 1, threadQueueLimit: Int = 1024, processQueueLimit: Int = 1024,
                      control: Bool = false, models: [String: ExecutionModel] = [:], extraRoutes: [Route] = [], upstreamConnections: Int = 16,
                      configure: (inout ServerConfiguration) -> Void = { _ in }) async throws -> TestServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let upstream = try await UpstreamServer.start(port: 0, delayMs: 20, group: group)
        let client = UpstreamClient(port: upstream.port, group: group, connections: upstreamConnections)
        var routes = try DemoApp.routes(upstream: client) + extraRoutes
        for i in routes.indices { if let m = models[routes[i].template.description] { routes[i].model = m } }
        let dir = NSTemporaryDirectory() + "loopscope-test-\(UUID().uuidString.prefix(8))"
        var c = ServerConfiguration()
        c.name = "test"
        c.port = 0
        c.eventLoops = loops
        c.threadPoolSize = threads
        c.processPoolSize = processes
        c.threadQueueLimit = threadQueueLimit
        c.processQueueLimit = processQueueLimit
        c.workerCommand = WorkerCommand(executable: TestBinaries.loopscope)
        c.control = control ? ControlConfiguration(directory: dir) : nil
        configure(&c)
        let server = try LoopScopeServer(configuration: c, routes: routes, extraPools: [client.pool], logger: .init(label: "test"))
        try await server.start()
        return TestServer(server: server, upstream: upstream, group: group, controlDir: dir)
    }

    /// Runs `body` with a started server and stops the server before returning, also when
    /// `body` throws: no test outlives its server.
    static func with<T>(loops: Int = 1, threads: Int = 2, processes: Int = 1, threadQueueLimit: Int = 1024, processQueueLimit: Int = 1024,
                        control: Bool = false, models: [String: ExecutionModel] = [:], extraRoutes: [Route] = [], upstreamConnections: Int = 16,
                        configure: (inout ServerConfiguration) -> Void = { _ in },
                        _ body: (TestServer) async throws -> T) async throws -> T {
        let t = try await start(loops: loops, threads: threads, processes: processes, threadQueueLimit: threadQueueLimit, processQueueLimit: processQueueLimit,
                                control: control, models: models, extraRoutes: extraRoutes, upstreamConnections: upstreamConnections, configure: configure)
        do {
            let value = try await body(t)
            await t.stop()
            return value
        } catch {
            await t.stop()
            throw error
        }
    }

    private init(server: LoopScopeServer, upstream: UpstreamServer, group: MultiThreadedEventLoopGroup, controlDir: String) {
        self.server = server
        self.upstream = upstream
        self.group = group
        self.controlDir = controlDir
    }

    /// One GET on a new connection.
    func get(_ path: String) async throws -> (status: Int, body: String) {
        let r = try await response(path)
        return (r.status, String(buffer: r.body))
    }

    func response(_ path: String) async throws -> HTTPClientConnection.Response {
        let c = try await HTTPClientConnection.connect(host: "127.0.0.1", port: port, group: group).get()
        defer { c.close() }
        return try await c.get(path).get()
    }

    /// Sends raw bytes on a new TCP connection and returns what comes back before the server closes (or 2 s).
    func raw(_ request: String) throws -> String { rawHTTP(port: port, request) }

    func stop() async {
        await server.shutdown()
        await upstream.stop()
        try? await group.shutdownGracefully()
        try? FileManager.default.removeItem(atPath: controlDir)
    }
}

enum TestBinaries {
    /// The `loopscope` executable built beside the test bundle (`swift build` builds it).
    static var loopscope: String { WorkerCommand.siblingExecutable(named: "loopscope") }
}

/// Sends raw bytes to 127.0.0.1:`port` on a new TCP connection and returns what comes back
/// before the server closes (or `timeoutSeconds`). Blocking.
func rawHTTP(port: Int, _ request: String, timeoutSeconds: Int = 2, untilClosed: Bool = true) -> String {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    guard rc == 0 else { return "connect failed" }
    var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    let bytes = Array(request.utf8)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = read(fd, &chunk, chunk.count)
        if n <= 0 { break }
        out += chunk[..<n]
        if !untilClosed { break }
    }
    return String(decoding: out, as: UTF8.self)
}

/// Polls `condition` every few milliseconds until it holds or `timeout` passes; returns whether
/// it held. For waiting on conditions with a deadline, never for deciding by a fixed sleep.
func eventually(within timeout: Duration = .seconds(5), _ condition: () throws -> Bool) async rethrows -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if try condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return try condition()
}

/// A raw TCP connection to 127.0.0.1, for sending partial requests and seeing when the server
/// closes. Blocking calls, each bounded by its timeout.
final class RawConnection {
    let fd: Int32

    init(port: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else {
            close(fd)
            throw RawConnectionError(message: "connect to \(port): errno \(errno)")
        }
        self.fd = fd // only now: a failed init must not close the descriptor twice (deinit)
    }

    deinit { close(fd) }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// Reads until the server closes (or resets) the connection or `timeout` passes: what came,
    /// and after how long the connection ended (nil when it did not).
    func readUntilClosed(timeout: Duration) -> (text: String, closedAfter: Duration?) {
        let clock = ContinuousClock()
        let start = clock.now
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let left = timeout - (clock.now - start)
            guard left > .zero else { return (String(decoding: out, as: UTF8.self), nil) }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ms = Int32(max(1, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))
            guard poll(&pfd, 1, ms) > 0 else { continue }
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { return (String(decoding: out, as: UTF8.self), clock.now - start) }
            out += chunk[..<n]
        }
    }

    /// Reads one HTTP response of a keep-alive connection (head and a content-length body).
    func readResponse(timeout: Duration) -> String? {
        let clock = ContinuousClock()
        let start = clock.now
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while clock.now - start < timeout {
            let text = String(decoding: out, as: UTF8.self)
            if let end = text.range(of: "\r\n\r\n") {
                let length = text[..<end.lowerBound].split(separator: "\r\n")
                    .first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                if out.count - text[..<end.upperBound].utf8.count >= length { return text }
            }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 50) > 0 else { continue }
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { return nil }
            out += chunk[..<n]
        }
        return nil
    }
}

struct RawConnectionError: Error { var message: String }

/// Threads of this process whose name starts with one of `prefixes` (from /proc/self/task).
func threadCount(named prefixes: [String]) -> Int { threadNames(prefixes).count }

/// The names of this process's threads that start with one of `prefixes`.
func threadNames(_ prefixes: [String]) -> [String] {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    return tasks.compactMap { tid in
        let comm = ((try? String(contentsOfFile: "/proc/self/task/\(tid)/comm", encoding: .utf8)) ?? "").trimmingCharacters(in: .newlines)
        return prefixes.contains { comm.hasPrefix($0) } ? comm : nil
    }.sorted()
}
