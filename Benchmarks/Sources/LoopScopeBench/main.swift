// loopscope-bench: the measuring tools behind Benchmarks/run. Release builds only.
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import LoopScopeClient
import LoopScopeDemo
import LoopScopeRuntime
import LoopScopeAgent
import LoopScopeTUI
import LoopScopeWire

ProcessWorker.runIfRequested(jobs: DemoJobs.all)

let args = Array(CommandLine.arguments.dropFirst())
func option(_ name: String, _ fallback: String) -> String {
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return fallback }
    return args[i + 1]
}

func percentile(_ sorted: [Double], _ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p / 100))] }

switch args.first ?? "" {
case "bare-server":
    // The SwiftNIO hello world every HTTP benchmark compares against.
    final class Hello: ChannelInboundHandler, Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .end = unwrapInboundIn(data) else { return }
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: "text/plain; charset=utf-8")
            headers.add(name: "content-length", value: "6")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: "hello\n")))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
    let loops = Int(option("--loops", "1"))!
    let group = MultiThreadedEventLoopGroup(numberOfThreads: loops)
    let channel = try await ServerBootstrap(group: group)
        .serverChannelOption(.backlog, value: 1024)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
        .childChannelInitializer { ch in ch.eventLoop.makeCompletedFuture {
            try ch.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
            try ch.pipeline.syncOperations.addHandler(Hello())
        } }
        .bind(host: "127.0.0.1", port: Int(option("--port", "8090"))!).get()
    print("bare NIO on \(channel.localAddress!)")
    await SignalWaiter.wait()
    try await channel.close().get()

case "pools":
    // Thread-pool hand-off: submit → job starts. Process-pool round trip: a trivial job there and back.
    let n = Int(option("--jobs", "5000"))!
    let pool = ThreadPool(size: 1, queueLimit: 100_000)
    var handoff: [Double] = []
    let started = NIOLockedValueBox<UInt64>(0)
    for _ in 0..<n {
        let sem = DispatchSemaphore(value: 0)
        let t0 = Clocks.monotonicNanos()
        _ = pool.submit { started.withLockedValue { $0 = Clocks.monotonicNanos() }; sem.signal() }
        sem.wait()
        handoff.append(Double(started.withLockedValue { $0 } - t0) / 1000)
    }
    handoff.sort()
    let procs = ProcessPool(size: 1, queueLimit: 100_000, command: .currentExecutable)
    var trips: [Double] = []
    for i in 0..<(n + 200) {
        let sem = DispatchSemaphore(value: 0)
        let t0 = Clocks.monotonicNanos()
        procs.submit(DemoJobs.hello, input: JobInput()) { _ in sem.signal() }
        sem.wait()
        if i >= 200 { trips.append(Double(Clocks.monotonicNanos() - t0) / 1000) }
    }
    trips.sort()
    print(String(format: "threadpool_handoff_us p50 %.1f p99 %.1f", percentile(handoff, 50), percentile(handoff, 99)))
    print(String(format: "processpool_roundtrip_us p50 %.1f p99 %.1f", percentile(trips, 50), percentile(trips, 99)))
    procs.shutdown(timeoutNanos: 1_000_000_000)
    pool.shutdown(timeoutNanos: 1_000_000_000)

case "offload":
    // What an offload point and a measured request cost, awaited from a task on the
    // cooperative pool (as a Hummingbird handler would), p50/p99 in µs.
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    var config = AgentConfiguration(name: "bench-offload")
    config.control = nil
    config.offloadProcesses = 1   // this executable serves DemoJobs.all, render-invoice among them
    let agent = try await LoopScopeAgent.start(config, watching: group)
    let jobs = Int(option("--jobs", "20000")) ?? 20_000
    func timed(_ body: @escaping @Sendable (Int) async throws -> Void) async throws -> (Double, Double) {
        try await Task.detached {
            var samples: [Double] = []
            samples.reserveCapacity(jobs)
            for i in 0..<(jobs + 1000) {
                let t0 = Clocks.monotonicNanos()
                try await body(i)
                if i >= 1000 { samples.append(Double(Clocks.monotonicNanos() - t0) / 1000) }
            }
            samples.sort()
            return (percentile(samples, 50), percentile(samples, 99))
        }.value
    }
    let route = agent.route(method: "GET", template: "/bench")
    let plain = try await timed { i in _ = await Task.detached { i }.value }
    let none = try await timed { i in _ = { i &* 31 }() }
    let measured = try await timed { i in _ = try await agent.measureRequest(route, status: { _ in 200 }, errorStatus: { _ in 500 }) { i &* 31 } }
    let inline = try await timed { i in _ = try await agent.offload("tiny") { i &* 31 } }
    _ = try agent.core.setModel(method: "OFFLOAD", path: "tiny", model: .threads, actor: "bench")
    let threads = try await timed { i in _ = try await agent.offload("tiny") { i &* 31 } }
    // The floor of a hand-off to threads and back, without LoopScope: NIO's own thread pool
    // (its async `runIfActive`), and the agent's pool reached with a bare continuation.
    let nioPool = NIOThreadPool(numberOfThreads: 2)
    nioPool.start()
    let nio = try await timed { i in _ = try await nioPool.runIfActive { i &* 31 } }
    try await nioPool.shutdownGracefully()
    let offloadPool = agent.core.offloadPool!
    let bare = try await timed { i in
        _ = await withCheckedContinuation { (c: CheckedContinuation<Int, Never>) in _ = offloadPool.submit { c.resume(returning: i &* 31) } }
    }
    // An OffloadJob (Codable, JSON across a pipe) inline and in a worker process.
    let order = InvoiceOrder(id: "1", milliseconds: 0)
    let jobInline = try await timed { _ in _ = try await agent.offload(DemoJobs.renderInvoice, order) }
    _ = try agent.core.setModel(method: "OFFLOAD", path: DemoJobs.renderInvoice.name, model: .processes, actor: "bench")
    let jobProcess = try await timed { _ in _ = try await agent.offload(DemoJobs.renderInvoice, order) }
    print(String(format: "offload_us nothing p50 %.2f; a detached task p50 %.2f; measureRequest p50 %.2f p99 %.2f; offload inline p50 %.2f p99 %.2f; threads p50 %.2f p99 %.2f; threads over inline p50 %.2f",
                 none.0, plain.0, measured.0, measured.1, inline.0, inline.1, threads.0, threads.1, threads.0 - inline.0))
    print(String(format: "offload_floor_us NIOThreadPool.runIfActive p50 %.2f p99 %.2f; the agent's pool, bare continuation p50 %.2f p99 %.2f; offload on threads over the bare hand-off p50 %.2f",
                 nio.0, nio.1, bare.0, bare.1, threads.0 - bare.0))
    print(String(format: "offload_job_us inline p50 %.2f p99 %.2f; processes p50 %.2f p99 %.2f; processes over inline p50 %.2f",
                 jobInline.0, jobInline.1, jobProcess.0, jobProcess.1, jobProcess.0 - jobInline.0))
    await agent.stop()
    try await group.shutdownGracefully()

case "encode":
    // A snapshot of a server with 100 routes: build figures, encode as JSON.
    let routes = (0..<100).map { i in
        RouteFigures(method: "GET", path: "/route/\(i)", model: .loop, requests: 123_456, rate1s: 100, rate10s: 100,
                     latency: WindowedPercentiles(last1s: Percentiles(count: 100, p50: 100, p90: 200, p99: 300, p999: 400, max: 500, mean: 120), last10s: Percentiles(count: 1000, p50: 100, p90: 200, p99: 300, p999: 400, max: 500, mean: 120)),
                     p99History: Array(repeating: 300, count: 60), rateHistory: Array(repeating: 100, count: 60),
                     histogram: (0..<20).map { HistogramBucket(upToMicros: UInt64(10 << $0), count: 5) })
    }
    let snapshot = Snapshot(server: ServerInfo(name: "bench", pid: 1, startedAt: 0, uptimeSeconds: 1, address: "x"), loops: [LoopFigures(name: "loop 0", lagHistory: Array(repeating: 100, count: 60))], routes: routes)
    let codec = WireCodec()
    var bytes = 0
    let t0 = Clocks.monotonicNanos()
    for _ in 0..<200 { bytes = snapshot.json().count }
    let fast = Double(Clocks.monotonicNanos() - t0) / 200 / 1e6
    let t1 = Clocks.monotonicNanos()
    for _ in 0..<50 { bytes = codec.encode(snapshot).count }
    let foundation = Double(Clocks.monotonicNanos() - t1) / 50 / 1e6
    print(String(format: "snapshot_100_routes_encode_ms %.3f (JSONEncoder %.3f) bytes %d", fast, foundation, bytes))

case "frame":
    // Dashboard cost: render a 50-route snapshot and diff against the previous frame.
    func benchRoute(_ i: Int) -> RouteFigures {
        let n = UInt64(i)
        let latency = WindowedPercentiles(last10s: Percentiles(count: 100, p50: n * 10, p99: n * 100, max: n * 200))
        let history: [UInt64] = Array(repeating: n, count: 60)
        return RouteFigures(method: "GET", path: "/route/\(i)", model: ExecutionModel.allCases[i % 4], rate10s: Double(i * 10), latency: latency, p99History: history)
    }
    let routes: [RouteFigures] = (0..<50).map(benchRoute)
    var state = DashboardState(target: "bench")
    let view = DashboardView(glyphs: .unicode)
    var previous: ScreenBuffer? = nil
    let frames = 1000
    var cpu0 = Clocks.threadCPUNanos()
    let t0 = Clocks.monotonicNanos()
    for f in 0..<frames {
        var s = Snapshot(sequence: UInt64(f), time: Double(f) / 10, server: ServerInfo(name: "bench", pid: 1, startedAt: 0, uptimeSeconds: Double(f), address: "x"),
                         loops: [LoopFigures(name: "loop 0", lagHistory: (0..<60).map { UInt64(($0 + f) % 7) * 100 })], routes: routes)
        s.routes[f % 50].rate10s += 1
        state.receive(s, dropped: 0, now: Double(f))
        let buffer = view.render(state, rows: 50, columns: 160)
        _ = buffer.changes(from: previous)
        previous = buffer
    }
    let perFrame = Double(Clocks.monotonicNanos() - t0) / Double(frames) / 1e6
    cpu0 = Clocks.threadCPUNanos() - cpu0
    print(String(format: "dashboard_frame_ms %.3f cpu_share_at_10hz_pct %.2f", perFrame, Double(cpu0) / Double(frames) / 1e9 * 10 * 100))

case "subscribers":
    // Keeps N raw subscribers at an interval. They count frames without decoding them, so what
    // is measured is the server's cost, not the JSON decoding of 32 clients on the same cores.
    let socket = option("--socket", "")
    let count = Int(option("--count", "32"))!
    let interval = Int(option("--interval", "100"))!
    let seconds = Double(option("--seconds", "12"))!
    let frames = NIOLockedValueBox(0)
    let done = DispatchGroup()
    for _ in 0..<count {
        done.enter()
        Thread {
            defer { done.leave() }
            let fd = socket_unix(socket)
            guard fd >= 0 else { return }
            defer { close(fd) }
            let hello = "{\"id\":1,\"op\":\"hello\",\"versions\":[1]}\n{\"id\":2,\"op\":\"subscribe\",\"intervalMs\":\(interval)}\n"
            _ = hello.withCString { write(fd, $0, strlen($0)) }
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            let deadline = Date().addingTimeInterval(seconds)
            var lines = 0
            while Date() < deadline {
                let n = read(fd, &buffer, buffer.count)
                if n <= 0 { break }
                for i in 0..<n where buffer[i] == 10 { lines += 1 }
            }
            frames.withLockedValue { $0 += max(0, lines - 3) }
        }.start()
    }
    done.wait()
    print("subscriber_frames \(frames.withLockedValue { $0 })")

default:
    print("usage: loopscope-bench bare-server [--port N] [--loops N] | pools [--jobs N] | encode | frame | subscribers --socket PATH [--count N] [--interval MS] [--seconds S]")
}

/// A connected Unix stream socket, or -1.
func socket_unix(_ path: String) -> Int32 {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    var addr = sockaddr_un()
    addr.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &addr.sun_path) { raw in
        for (i, b) in path.utf8.enumerated() where i < raw.count - 1 { raw[i] = b }
    }
    let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
    if rc != 0 { close(fd); return -1 }
    return fd
}
