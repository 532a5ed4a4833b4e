import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import LoopScopeDemo
import LoopScopeWire

/// `loopscope load`: an HTTP load generator, open loop (constant rate) or closed loop.
struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Send HTTP load: open loop at a constant rate (as wrk2) or closed loop (as wrk), with an HDR percentile table."
    )

    @Option(help: "Server address, host:port.") var target = "127.0.0.1:8080"
    @Option(help: "Paths with weights, e.g. /hello:3,/hash:1.") var mix = "/hello"
    @Option(parsing: .unconditional, help: "Open loop: total requests per second.") var rate: Double?
    @Option(parsing: .unconditional, help: "Closed loop: requests in flight (default when --rate is not given: 64).") var concurrency: Int?
    @Option(parsing: .unconditional, help: "Keep-alive connections (default: the concurrency, or 16 for open loop).") var connections: Int?
    @Option(help: "How long, e.g. 10s.") var duration = "10s"
    @Option(parsing: .unconditional, help: "Stop after this many requests.") var requests: Int?
    @Option(help: "Also write the report as JSON to this file.") var json: String?
    @Flag(help: "Open loop: Poisson arrivals and random paths by weight (default: evenly spaced).") var poisson = false
    @Flag(help: "No live progress line.") var quiet = false

    func validate() throws {
        if let rate, !(rate > 0 && rate <= 1_000_000) { throw ValidationError("--rate must be in (0, 1000000]") }
        if let concurrency, !(1...10_000).contains(concurrency) { throw ValidationError("--concurrency must be 1...10000") }
        if rate != nil && concurrency != nil { throw ValidationError("give --rate (open loop) or --concurrency (closed loop), not both") }
        if let connections, !(1...10_000).contains(connections) { throw ValidationError("--connections must be 1...10000") }
        if let requests, requests < 1 { throw ValidationError("--requests must be at least 1") }
        _ = try Interval.parse(duration)
        _ = try LoadPlan.parseMix(mix)
        _ = try hostPort()
    }

    func hostPort() throws -> (String, Int) {
        let parts = target.replacingOccurrences(of: "http://", with: "").split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1].split(separator: "/")[0]), (1...65535).contains(port) else {
            throw ValidationError("--target must be host:port, got '\(target)'")
        }
        return (String(parts[0]), port)
    }

    func run() async throws {
        let (host, port) = try hostPort()
        let mode: LoadPlan.Mode = rate.map { .open(rate: $0) } ?? .closed(concurrency: concurrency ?? 64)
        let conns: Int
        switch mode {
        case .open: conns = connections ?? 16
        case .closed(let c): conns = connections ?? c
        }
        let plan = LoadPlan(host: host, port: port, mix: try LoadPlan.parseMix(mix), mode: mode, connections: conns,
                            durationSeconds: Double(try Interval.parse(duration)) / 1000, maxRequests: requests, poisson: poisson)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let generator = LoadGenerator(plan: plan, group: group)
        let progress = Task {
            guard !quiet else { return }
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: 1_000_000_000)
                let r = generator.progress()
                FileHandle.standardError.write(Data("\r\(Units.fixed1(r.seconds))s  \(r.total.requests) requests  \(Units.rate(r.total.rate)) req/s  p99 \(Units.micros(r.total.p99))  errors \(r.total.errors)   ".utf8))
            }
        }
        let report: LoadReport
        do {
            report = try await generator.run()
        } catch {
            progress.cancel()
            try? await group.shutdownGracefully()
            throw CLIError("\(error)")
        }
        progress.cancel()
        if !quiet { FileHandle.standardError.write(Data("\n".utf8)) }
        print(report.table, terminator: "")
        if let json {
            guard FileManager.default.createFile(atPath: json, contents: Data(WireCodec(prettyPrinted: true).encode(report))) else { throw CLIError("cannot write \(json)") }
        }
        try? await group.shutdownGracefully()
    }
}
