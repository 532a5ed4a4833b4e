import ArgumentParser
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import LoopScopeClient
import LoopScopeCurses
import LoopScopeDemo
import LoopScopeRuntime
import LoopScopeTUI
import LoopScopeWire

extension StoryApp: ExpressibleByArgument {}

/// `loopscope demo`: server, upstream, load and dashboard in one command, walking through the article's lessons.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the demo story: starts the server, the upstream stub and the load, attaches the dashboard and walks through each scenario."
    )

    @Option(help: "The application the story plays against: loopscope (LoopScope's own runtime, in this process) or hummingbird (demo/hummingbird's service with the agent embedded, started beside this executable).")
    var app: StoryApp?
    @Option(help: "Scenarios to play, comma-separated (default: the app's whole story; loopscope: fake-async, blocking-call, saturation, mixed, worker-crash; hummingbird: fake-async, blocking-call, db-pool). Without --app, the app that has them all (db-pool: hummingbird), else loopscope.")
    var scenario: String?
    @Flag(help: "No dashboard: autopilot plays the scenarios, prints a table per phase and a verdict per expectation; exits non-zero if one fails.")
    var headless = false
    @Flag(help: "Interactive mode: autopilot acts at once instead of waiting for you.") var autopilot = false
    @Flag(help: "Halve every phase (for CI).") var short = false
    @Flag(help: "With --headless: play the scenarios without their fixes, to see the verdicts that depend on a fix fail.") var withholdFix = false
    @Option(parsing: .unconditional, help: "Seconds you have to act in a phase before autopilot does.") var grace = 12.0
    @Option(parsing: .unconditional, help: "HTTP port of the demo server (0: a free one).") var port = 0
    @Flag(help: "Use ASCII instead of Unicode glyphs.") var ascii = false
    @Flag(help: "No colours (also when NO_COLOR is set).") var noColor = false

    func validate() throws {
        for name in scenarioNames { _ = try Scenario.named(name, app: storyApp) }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535") }
        guard grace >= 0, grace <= 600 else { throw ValidationError("--grace must be 0...600 seconds") }
        guard !withholdFix || headless else { throw ValidationError("--withhold-fix needs --headless") }
    }

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        if !headless, let why = CursesBackend.unusableReason(environment: env) {
            throw CLIError(why + " (or run `loopscope demo --headless`)")
        }
        LoggingSetup.bootstrap(toFile: headless ? nil : "/tmp/loopscope-demo-\(getuid()).log", level: headless ? .warning : .info)
        let app = storyApp
        let scenarios = try scenarioNames.map { try Scenario.named($0, app: app) }.map { short ? $0.scaled(0.5) : $0 }
        let controlDir = NSTemporaryDirectory() + "loopscope-demo-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: controlDir) }
        let target: StoryTarget
        switch app {
        case .loopscope: target = try await StoryTarget.loopscope(port: port, controlDir: controlDir, threads: Self.threads)
        case .hummingbird: target = try await StoryTarget.hummingbird(port: port, controlDir: controlDir, threads: Self.threads)
        }
        let loadGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let socket = target.socket, httpPort = target.httpPort
        let client: ControlClient
        do {
            client = try await ControlClient.connect(path: socket)
        } catch {
            await target.stop()
            throw error
        }
        // Between scenarios every route, offload point and pool goes back to how it started.
        let start = try await client.snapshot()
        var allPassed = true
        if headless {
            for s in scenarios {
                try await resetServer(client, to: start)
                let runner = ScenarioRunner(scenario: s, client: client, port: httpPort, group: loadGroup, withholdActions: withholdFix)
                print("\n== \(s.name): \(s.title)\n\(s.story)")
                let (_, passed) = try await runner.run(observer: HeadlessPrinter.observer(phases: s.phases.count))
                print(passed ? "✔ \(s.name): every expectation met" : "✘ \(s.name): some expectations failed")
                allPassed = allPassed && passed
            }
        } else {
            let guide = NIOLockedValueBox<[String]>(["starting the demo…"])
            let play = Task {
                for (n, s) in scenarios.enumerated() {
                    try await resetServer(client, to: start)
                    guide.withLockedValue { $0 = ["scenario \(n + 1)/\(scenarios.count) \(s.name): \(s.title)", s.story] }
                    try await Task.sleep(nanoseconds: 4_000_000_000)
                    let runner = ScenarioRunner(scenario: s, client: client, port: httpPort, group: loadGroup, userGraceSeconds: autopilot ? nil : grace)
                    var observer = ScenarioRunner.Observer()
                    observer.phaseStarted = { i, phase in
                        guide.withLockedValue { $0 = ["\(s.name) · phase \(i + 1)/\(s.phases.count) \(phase.name): \(phase.say)", phase.hint.map { "try: \($0)" } ?? ""].filter { !$0.isEmpty } }
                    }
                    observer.message = { m in guide.withLockedValue { g in g = Array(g.prefix(1)) + [m] } }
                    observer.phaseFinished = { i, _, verdicts in
                        let line = verdicts.map { ($0.passed ? "✔ " : "✘ ") + $0.description }.joined(separator: "   ")
                        guide.withLockedValue { g in g = Array(g.prefix(1)) + [line.isEmpty ? "phase \(i + 1) done" : line] }
                    }
                    _ = try await runner.run(observer: observer)
                }
                guide.withLockedValue { $0 = ["the story is over: a steady mixed load keeps running; everything is back where it started", "explore: move routes (1-4), resize pools (Tab, +/-), apply fixes (f), details (Enter); q quits"] }
                try await resetServer(client, to: start)
                let steady = LoadPlan(port: httpPort, mix: app.steadyMix, mode: .open(rate: 200), connections: 16, durationSeconds: 3600, poisson: true)
                _ = try await LoadGenerator(plan: steady, group: loadGroup).run()
            }
            let feed = SnapshotFeed(intervalMs: 100) { socket }
            var state = DashboardState(target: start.server.name)
            state.now = Date().timeIntervalSince1970
            let glyphs: Glyphs = ascii || !TerminalLocale.isUTF8() ? .ascii : .unicode
            let color = !noColor && (env["NO_COLOR"] ?? "").isEmpty
            try await DashboardRunner.run(state: state, feed: feed, glyphs: glyphs, color: color, guide: { guide.withLockedValue { $0 } })
            play.cancel()
        }
        await client.close()
        await target.stop()
        try? await loadGroup.shutdownGracefully()
        if !allPassed { throw ExitCode(1) }
    }

    /// The demo's thread pool leaves one core to the event loop (CPU-bound threads on every core
    /// would make the loop wait for a time slice).
    static var threads: Int { max(1, System.coreCount - 1) }

    private var scenarioNames: [String] { scenario.map { $0.split(separator: ",").map(String.init) } ?? storyApp.story }

    /// `--app`, or else the first app that has every scenario named, or else LoopScope's own.
    private var storyApp: StoryApp {
        if let app { return app }
        guard let names = scenario?.split(separator: ",").map(String.init) else { return .loopscope }
        return StoryApp.allCases.first { a in names.allSatisfy { (try? Scenario.named($0, app: a)) != nil } } ?? .loopscope
    }

    /// Every route and offload point back on the model it started on, every pool at its start
    /// size and queue limit.
    private func resetServer(_ client: ControlClient, to start: Snapshot) async throws {
        let s = try await client.snapshot()
        for r in s.routes {
            if let was = start.route(r.path, method: r.method)?.model, was != r.model { try await client.send(.route(method: r.method, path: r.path, model: was)) }
        }
        for p in s.pools {
            guard let was = start.pool(p.name) else { continue }
            if p.size != was.size { try await client.send(.resize(pool: p.name, size: was.size)) }
            if p.queueLimit != was.queueLimit { try await client.send(.limit(pool: p.name, limit: was.queueLimit)) }
        }
        try await Task.sleep(nanoseconds: 1_500_000_000)
    }
}

/// Prints headless progress: a table per phase and a verdict per expectation.
enum HeadlessPrinter {
    static func observer(phases: Int) -> ScenarioRunner.Observer {
        var o = ScenarioRunner.Observer()
        o.phaseStarted = { i, p in
            print("\n-- phase \(i + 1)/\(phases) \(p.name) (\(Int(p.seconds)) s): \(p.say)")
        }
        o.message = { print("   \($0)") }
        o.phaseFinished = { _, result, verdicts in
            // Client figures from the open-loop load; "server p99" is what the server reports for the
            // same route over its last 10 s, the wait for a busy loop included.
            print("   " + Units.padRight("path", 16) + Units.padLeft("req/s", 8) + Units.padLeft("p50", 9) + Units.padLeft("p99", 9) + Units.padLeft("max", 9) + Units.padLeft("errors", 8) + Units.padLeft("server p99 10s", 16))
            for row in result.report.rows {
                let server = result.snapshot.route(serving: row.path).map { Units.micros($0.latency.last10s.p99) } ?? ""
                print("   " + Units.padRight(row.path, 16) + Units.padLeft(Units.rate(row.rate), 8) + Units.padLeft(Units.micros(row.p50), 9) + Units.padLeft(Units.micros(row.p99), 9) + Units.padLeft(Units.micros(row.max), 9) + Units.padLeft(String(row.errors), 8) + Units.padLeft(server, 16))
            }
            for e in result.snapshot.loops + [result.snapshot.tasks] {
                guard let site = e.stallSites.first else { continue }
                let below = site.frames.dropFirst().prefix(2).map { " ← \($0)" }.joined()
                let age = Int((result.snapshot.time - site.lastSeen).rounded())
                print("   stall site \(e.name): \(site.function)\(below) — \(Units.micros(site.last60s.micros)) stalled in \(site.last60s.stalls) stalls over 60 s\(site.route.map { ", \($0)" } ?? ""), last seen \(age) s ago")
            }
            let pools = result.snapshot.pools.map { "\($0.name) size \($0.size) queue \($0.queued) rejected \($0.rejected)" }.joined(separator: " · ")
            let lags = Expectation.LagExecutor.allCases.map { "\($0.title) p99 \(Units.micros(result.lagP99Micros[$0] ?? 0, empty: "0ms"))" }.joined(separator: " · ")
            print("   \(lags) · \(pools)")
            for v in verdicts { print("   \(v.passed ? "✔" : "✘") \(v.description)") }
        }
        return o
    }

}
