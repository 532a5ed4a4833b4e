import Foundation
import Testing
@testable import LoopScopeDemo
import LoopScopeWire

/// The demo's verdicts are ratios against the phase before, over typical seconds: a stall of
/// the machine running the load cannot flip them, a withheld fix must.
@Suite struct ScenarioVerdictTests {
    static let emptySnapshot: Snapshot = {
        let json = #"{"schema":1,"sequence":1,"time":0,"server":{"name":"t","pid":1,"startedAt":0,"uptimeSeconds":1,"address":"","instrumented":true,"cores":2},"loops":[],"tasks":{"name":"tasks","lag":{"last1s":{"count":0,"p50":0,"p90":0,"p99":0,"p999":0,"max":0,"mean":0},"last10s":{"count":0,"p50":0,"p90":0,"p99":0,"p999":0,"max":0,"mean":0}},"stalls":0,"culpritHeldMicros":0,"lagHistory":[]},"pools":[],"routes":[],"events":[],"eventsDropped":0,"diagnoses":[],"selfCost":{"nanosPerRequest":0,"statisticsBytes":0,"framesDropped":0,"snapshotMicros":0}}"#
        return try! JSONDecoder().decode(Snapshot.self, from: Data(json.utf8))
    }()

    func phase(_ name: String, lagMicros: UInt64, helloP99: UInt64, typical: UInt64?) -> LoopScopeDemo.Expectation.PhaseResult {
        var row = LoadReport.Row(path: "/hello", requests: 3000, errors: 0, rate: 300, p50: 1, p90: 1, p99: helloP99, p999: helloP99, max: helloP99)
        row.typicalP99 = typical
        return LoopScopeDemo.Expectation.PhaseResult(name: name, report: LoadReport(mode: .open(rate: 300), seconds: 10, rows: [row], errors: [:]),
                                       snapshot: Self.emptySnapshot, lagP99Micros: [.loops: lagMicros, .tasks: lagMicros / 2])
    }

    func expectation(_ json: String) throws -> LoopScopeDemo.Expectation { try JSONDecoder().decode(LoopScopeDemo.Expectation.self, from: Data(json.utf8)) }

    @Test func loopLagDropIsARatioAgainstTheBaselinePhase() throws {
        let drop = try expectation(#"{"figure":"lag_drop","baseline":"before","atLeast":4}"#)
        let before = phase("before", lagMicros: 20_000, helloP99: 20_000, typical: nil)
        #expect(drop.evaluate(phase("after", lagMicros: 1_000, helloP99: 1_000, typical: nil), earlier: [before]).passed)
        // The fix withheld: the loop stays as busy.
        let withheld = drop.evaluate(phase("after", lagMicros: 15_000, helloP99: 15_000, typical: nil), earlier: [before])
        #expect(!withheld.passed)
        #expect(withheld.value == 20_000.0 / 15_000.0)
        // No baseline phase: no data, not a pass.
        #expect(!drop.evaluate(phase("after", lagMicros: 1_000, helloP99: 1_000, typical: nil), earlier: []).passed)
        // The cooperative pool's lag, not the loops', when the expectation names it.
        let tasks = try expectation(#"{"figure":"lag_p99","executor":"tasks","atLeast":12}"#)
        let verdict = tasks.evaluate(before, earlier: [])
        #expect(verdict.value == 10 && !verdict.passed)
        #expect(verdict.description.hasPrefix("cooperative pool lag p99"))
    }

    @Test func poolWaitShareAndDiagnosisReadTheServersFigures() throws {
        var s = Self.emptySnapshot
        var orders = RouteFigures(method: "GET", path: "/orders/{id}", model: .task)
        orders.split = LatencySplit(queueMicros: 10, computeMicros: 0, ioMicros: 8_000, poolWaitMicros: 31_990)
        s.routes = [orders]
        var p = phase("too-small", lagMicros: 0, helloP99: 1, typical: nil)
        p.snapshot = s
        let share = try expectation(#"{"figure":"pool_wait_share","route":"/orders/7","atLeast":0.5}"#).evaluate(p, earlier: [])
        #expect(share.value == 0.79975)
        #expect(share.passed)
        let present = try expectation(#"{"figure":"diagnosis","names":"queueing:postgres","atLeast":1}"#)
        #expect(!present.evaluate(p, earlier: []).passed, "no diagnosis yet")
        p.snapshot.diagnoses = [Diagnosis(id: "queueing:postgres", severity: .warning, summary: "too small", evidence: [], action: .resize(pool: "postgres", size: 3))]
        #expect(present.evaluate(p, earlier: []).passed)
        #expect(try expectation(#"{"figure":"diagnosis","names":"queueing:postgres","below":1}"#).evaluate(p, earlier: []).passed == false)
    }

    @Test func p99DropComparesTypicalSecondsWhenKept() throws {
        let drop = try expectation(#"{"figure":"p99_drop","route":"/hello","baseline":"before","atLeast":4}"#)
        let before = phase("before", lagMicros: 0, helloP99: 20_000, typical: 20_000)
        // One 600 ms stall of the load generator's machine in the fixed phase moves its whole
        // p99, not its typical second.
        let after = phase("after", lagMicros: 0, helloP99: 600_000, typical: 2_000)
        let v = drop.evaluate(after, earlier: [before])
        #expect(v.passed && v.value == 10)
    }

    @Test func aTypicalSecondIsTheMedianOfTheSecondHalfsP99s() {
        // Ten seconds of 100 requests at 1 ms, but second 7 has a 900 ms stall in its last 2.
        var seconds = Array(repeating: Array(repeating: UInt64(1_000), count: 100), count: 10)
        seconds[7][98] = 900_000
        seconds[7][99] = 900_000
        #expect(LoadStats.typicalP99(seconds, elapsed: 10.2) == 1_000)
        // The first half (warming up) does not count; a partial last second neither.
        seconds[0] = Array(repeating: 50_000, count: 100)
        seconds.append([80_000])
        #expect(LoadStats.typicalP99(seconds, elapsed: 10.2) == 1_000)
        #expect(LoadStats.typicalP99([], elapsed: 3) == nil)
    }

    @Test func utilisationPathsAreCheckedWhenTheScenarioIsRead() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("scenario-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func scenario(_ utilisation: String) throws -> Scenario {
            let path = dir.appendingPathComponent("s.json").path
            let json = #"{"name":"s","title":"t","story":"s","phases":[{"name":"p","seconds":5,"load":{"/hello":10},"utilisation":"# + utilisation + #","say":"x","actions":[],"expect":[]}]}"#
            try Data(json.utf8).write(to: URL(fileURLWithPath: path))
            return try Scenario.load(path: path)
        }
        #expect(try scenario(#"{"/hash":0.5}"#).phases[0].utilisation == ["/hash": 0.5])
        #expect(throws: LoadError.self) { try scenario(#"{"/hash":1.5}"#) }
        #expect(throws: LoadError.self) { try scenario(#"{"/hello":0.5}"#) }
        #expect(throws: LoadError.self) { try scenario(#"{"hash":0.5}"#) }
    }

    @Test func anActionOfAnUnknownKindIsRefusedWhenTheScenarioIsRead() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("scenario-kind-\(getpid()).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        func scenario(_ kind: String) throws -> Scenario {
            let json = #"{"name":"s","title":"t","story":"s","phases":[{"name":"p","seconds":5,"load":{"/hello":10},"say":"x","actions":[{"kind":""# + kind + #"","pool":"threads","size":2}],"expect":[]}]}"#
            try Data(json.utf8).write(to: URL(fileURLWithPath: path))
            return try Scenario.load(path: path)
        }
        #expect(try scenario("resize").phases[0].actions.first?.kind == .resize)
        #expect { try scenario("dance") } throws: { "\($0)".contains("dance") }
    }

    @Test func everyShippedScenarioOfEveryAppReads() throws {
        for app in StoryApp.allCases {
            let dir = Scenario.directory(for: app)
            let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }
            #expect(Set(files) == Set(app.story), "\(app): the story names every scenario in \(dir)")
        }
        for app in StoryApp.allCases {
            for name in app.story {
            let s = try Scenario.named(name, app: app)
            for p in s.phases {
                for e in p.expect where e.baseline != nil {
                    #expect(s.phases.contains { $0.name == e.baseline }, "\(name): baseline \(e.baseline ?? "") is a phase")
                }
            }
            }
        }
    }

    @Test func requestPathsFindTheRouteTemplateServingThem() {
        var s = Self.emptySnapshot
        func route(_ path: String, _ method: String = "GET") -> RouteFigures { RouteFigures(method: method, path: path, model: .task) }
        s.routes = [route("/invoices/{id}"), route("/users/:id/orders"), route("/files/**"), route("/hello"), route("/hello/{name}"),
                    route("render-invoice", "OFFLOAD")]
        #expect(s.route(serving: "/invoices/7")?.path == "/invoices/{id}")
        #expect(s.route(serving: "/invoices")?.path == nil)
        #expect(s.route(serving: "/invoices/7/8")?.path == nil)
        #expect(s.route(serving: "/users/3/orders")?.path == "/users/:id/orders")
        #expect(s.route(serving: "/files/a/b/c")?.path == "/files/**")
        #expect(s.route(serving: "/hello")?.path == "/hello")
        #expect(s.route(serving: "/hello/ann")?.path == "/hello/{name}")
        #expect(s.route(serving: "render-invoice", method: "OFFLOAD")?.path == "render-invoice")
        #expect(s.route(serving: "/invoices/7", method: "POST") == nil)
    }
}

/// The load generator keeps keep-alive connections the server closed apart from failed
/// requests: it reopens them, and no request is lost.
@Suite struct LoadGeneratorConnectionTests {
    @Test func connectionsTheServerClosesWhileIdleAreReopenedAndNoRequestIsLost() async throws {
        try await TestServer.with(configure: { $0.connections.idleTimeout = .milliseconds(150); $0.connections.headerTimeout = .milliseconds(150) }) { t in
            // Poisson arrivals over 16 connections at 100/s: the higher ones sit idle past the
            // server's 150 ms timeouts and are closed between requests.
            var plan = LoadPlan(port: t.port, mix: [LoadPlan.Entry(path: "/hello", weight: 1)], mode: .open(rate: 100), connections: 16,
                                durationSeconds: 3, poisson: true)
            plan.perSecond = true
            let report = try await LoadGenerator(plan: plan, group: t.group).run()
            let hello = try #require(report.row("/hello"))
            #expect(hello.errors == 0, "\(report.errors)")
            #expect((240...360).contains(hello.requests), "\(hello.requests) requests")
            #expect((report.reopened ?? 0) > 0)
            #expect(report.seconds < 5, "nothing left waiting for an answer that never comes")
        }
    }

    /// The worker-crash scenario kills a worker the kernel sees running its job, not one the
    /// last (shared, up to 90 ms old) snapshot called busy: a spinning process reads running,
    /// a sleeping one does not.
    @Test func aWorkerMidJobIsOneTheKernelSeesRunning() throws {
        func start(_ script: String) throws -> Process {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", script]
            try p.run()
            return p
        }
        func holds(within seconds: Double, _ condition: () -> Bool) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if condition() { return true }
                usleep(10_000)
            }
            return false
        }
        let spinning = try start("while :; do :; done")
        let sleeping = try start("exec sleep 30")
        defer {
            // SIGKILL: a shell started with SIGTERM ignored (as a CI runner may) keeps spinning.
            for p in [spinning, sleeping] { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
        }
        #expect(holds(within: 10) { ScenarioRunner.isRunning(pid: spinning.processIdentifier) })
        #expect(holds(within: 10) { !ScenarioRunner.isRunning(pid: sleeping.processIdentifier) })
        #expect(!ScenarioRunner.isRunning(pid: Int32.max), "no such process: not running")
    }
}
