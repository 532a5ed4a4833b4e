import Testing
import LoopScopeWire
@testable import LoopScopeRuntime
@testable import LoopScopeAgent

@Suite struct DiagnosisRulesTests {
    func snapshot(routes: [RouteFigures], pools: [PoolFigures] = [], loopP99: UInt64 = 0, cores: Int = 2) -> Snapshot {
        var loop = LoopFigures(name: "loop 0")
        loop.lag.last10s.p99 = loopP99
        loop.culprit = routes.first?.path
        return Snapshot(server: ServerInfo(name: "t", pid: 1, startedAt: 0, uptimeSeconds: 1, address: "", cores: cores), loops: [loop], pools: pools, routes: routes)
    }

    func route(_ path: String, model: ExecutionModel, wall: Double, cpu: Double, io: Double = 0, rate: Double = 100, queue: Double = 0, held: Double? = nil) -> RouteFigures {
        let compute = ComputeFigures(wallMicros: wall, cpuMicros: cpu, samples: 100)
        return RouteFigures(method: "GET", path: path, model: model, rate10s: rate,
                            split: LatencySplit(queueMicros: queue, computeMicros: wall, ioMicros: io), compute: compute,
                            workClass: WorkClassifier.classify(compute: compute, ioMicros: io),
                            held: HeldFigures(count: 10, totalMicros: 1, perRequestMicros: held ?? ((model == .loop || model == .task) ? wall : 0)))
    }

    @Test func cpuWorkOnALoopIsMovedToThreads() {
        let d = DiagnosisRules.diagnose(snapshot(routes: [route("/hash", model: .loop, wall: 5_000, cpu: 4_900)], loopP99: 41_000))
        let first = try! #require(d.first)
        #expect(first.id == "cpu-on-loop:/hash")
        #expect(first.severity == .critical)
        #expect(first.action == .reroute(route: "/hash", model: .threads))
        #expect(first.summary.contains("no GIL"))
    }

    @Test func aBlockingCallInATaskIsMovedToThreads() {
        let d = DiagnosisRules.diagnose(snapshot(routes: [route("/sleep", model: .task, wall: 10_000, cpu: 20)]))
        #expect(d.map(\.id) == ["blocking-on-tasks:/sleep"])
        #expect(d[0].action == .reroute(route: "/sleep", model: .threads))
    }

    @Test func ioRoutesAndPooledWorkAreLeftAlone() {
        let d = DiagnosisRules.diagnose(snapshot(routes: [
            route("/fanout", model: .loop, wall: 20, cpu: 15, io: 21_000),
            route("/hash", model: .threads, wall: 5_000, cpu: 4_900),
        ]))
        #expect(d.isEmpty)
    }

    @Test func aQueueingPoolIsResizedByLittlesLaw() {
        // 300 req/s × 10 ms blocking service = 3 busy workers; ×1.25 headroom → 4.
        var pool = PoolFigures(name: "threads", kind: .threads, size: 2, live: 2, busy: 2, queued: 30, queueLimit: 1024)
        pool.runTime.last10s.mean = 10_000
        let r = route("/sleep", model: .threads, wall: 10_000, cpu: 20, rate: 300, queue: 40_000)
        let d = DiagnosisRules.diagnose(snapshot(routes: [r], pools: [pool], cores: 2))
        #expect(d.map(\.id) == ["queueing:threads"])
        #expect(d[0].action == .resize(pool: "threads", size: 4))
    }

    @Test func aConnectionPoolItsRoutesWaitOnIsResizedByLittlesLawFromItsDemand() {
        // 250 checkouts/s × 10 ms held = 2.5 busy connections; + 1.5 √2.5 spares → 5. The route's model
        // (task) has nothing to do with the pool: it is found by the pool's `routes`.
        var pool = PoolFigures(name: "postgres", kind: .connections, size: 2, live: 2, busy: 2, queued: 40, queueLimit: 1024)
        pool.runTime.last10s.mean = 10_000
        pool.arrivalsPerSecond = 250
        pool.timedOut = 3
        pool.routes = ["/orders/{id}"]
        var r = route("/orders/{id}", model: .task, wall: 0, cpu: 0, io: 10_000, rate: 200)
        r.split.poolWaitMicros = 150_000
        let d = DiagnosisRules.diagnose(snapshot(routes: [r, route("/hello", model: .task, wall: 0, cpu: 0, io: 10)], pools: [pool], cores: 2))
        #expect(d.map(\.id) == ["queueing:postgres"])
        #expect(d[0].action == .resize(pool: "postgres", size: 5))
        #expect(d[0].severity == .critical, "requests timed out waiting")
        #expect(d[0].summary.contains("wait longer for a connection"))
        #expect(d[0].evidence.contains { $0.contains("/orders/{id}") && $0.contains("93 %") }, "\(d[0].evidence)")

        // The same pool when its routes barely wait: nothing to say.
        r.split.poolWaitMicros = 100
        pool.queued = 0
        pool.timedOut = 0
        #expect(DiagnosisRules.diagnose(snapshot(routes: [r], pools: [pool], cores: 2)).isEmpty)
    }

    @Test func aCPUPoolQueueingAtTheCoreCountIsSaturatedNotResized() {
        var pool = PoolFigures(name: "threads", kind: .threads, size: 2, live: 2, busy: 2, queued: 30, queueLimit: 1024, rejected: 5)
        pool.runTime.last10s.mean = 50_000
        let r = route("/report", model: .threads, wall: 50_000, cpu: 49_000, rate: 100, queue: 200_000)
        let d = DiagnosisRules.diagnose(snapshot(routes: [r], pools: [pool], cores: 2))
        #expect(d.map(\.id) == ["saturated:threads"])
        #expect(d[0].action == nil)
    }

    @Test func aCPUPoolLargerThanTheCoresIsOversubscribed() {
        var pool = PoolFigures(name: "threads", kind: .threads, size: 8, live: 8, busy: 2, queued: 0, queueLimit: 1024)
        pool.runTime.last10s.mean = 5_000
        let d = DiagnosisRules.diagnose(snapshot(routes: [route("/hash", model: .threads, wall: 5_000, cpu: 4_900)], pools: [pool], cores: 2))
        #expect(d.map(\.id) == ["oversubscribed:threads"])
        #expect(d[0].action == .resize(pool: "threads", size: 2))
    }

    @Test func aRouteCrashingWorkersIsReportedWithoutAnAutomaticAction() {
        var r = route("/report", model: .processes, wall: 5_000, cpu: 4_900)
        r.status.s5xx = 3
        let pool = PoolFigures(name: "processes", kind: .processes, size: 2, live: 2, busy: 0, queued: 0, queueLimit: 10, failed: 3,
                               workers: [WorkerFigures(pid: 10, jobsDone: 5, restarts: 3, residentBytes: 0, busy: false)])
        let d = DiagnosisRules.diagnose(snapshot(routes: [r], pools: [pool]))
        #expect(d.map(\.id) == ["failing-in-pool:/report"])
        #expect(d[0].severity == .critical)
        #expect(d[0].action == nil)
    }

    @Test func blockingWorkInProcessesWastesAWorker() {
        let d = DiagnosisRules.diagnose(snapshot(routes: [route("/sleep", model: .processes, wall: 10_000, cpu: 30)]))
        #expect(d.map(\.id) == ["blocking-in-processes:/sleep"])
        #expect(d[0].action == .reroute(route: "/sleep", model: .threads))
    }

    @Test func aJobOverrunningItsTimeoutOnThreadsIsMovedToProcesses() {
        var r = route("/sleep", model: .threads, wall: 300_000, cpu: 30)
        r.timeouts = [TimeoutCount(reason: TimeoutCount.jobTimeout(pool: "threads"), count: 3), TimeoutCount(reason: TimeoutCount.deadline, count: 7)]
        var threads = PoolFigures(name: "threads", kind: .threads, size: 4, live: 4, busy: 0, queued: 0, queueLimit: 10)
        threads.timedOut = 3
        let pools = [threads, PoolFigures(name: "processes", kind: .processes, size: 2, live: 2, busy: 0, queued: 0, queueLimit: 10)]
        let d = DiagnosisRules.diagnose(snapshot(routes: [r], pools: pools))
        #expect(d.map(\.id) == ["runaway-on-threads:/sleep"])
        #expect(d[0].action == .reroute(route: "/sleep", model: .processes))
        #expect(d[0].summary.contains("3 times"), "only its job timeouts count, not its deadlines: \(d[0].summary)")
        // Without a process pool there is nowhere to move it.
        #expect(DiagnosisRules.diagnose(snapshot(routes: [r], pools: [pools[0]])).isEmpty)
    }

    @Test func aBlockingJobThatOverranInAWorkerStaysThere() {
        var r = route("/sleep", model: .processes, wall: 10_000, cpu: 30)
        r.timeouts = [TimeoutCount(reason: TimeoutCount.jobTimeout(pool: "processes"), count: 1)]
        var pool = PoolFigures(name: "processes", kind: .processes, size: 2, live: 2, busy: 0, queued: 0, queueLimit: 10)
        pool.timedOut = 1
        #expect(DiagnosisRules.diagnose(snapshot(routes: [r], pools: [pool])).isEmpty, "moving it to threads would leave a thread behind at each timeout")
    }

    @Test func diagnosesComeWorstFirst() {
        let d = DiagnosisRules.diagnose(snapshot(routes: [
            route("/sleep", model: .processes, wall: 10_000, cpu: 30),
            route("/hash", model: .loop, wall: 5_000, cpu: 4_900),
        ], loopP99: 30_000))
        #expect(d.map(\.severity) == [.critical, .info])
    }
}
