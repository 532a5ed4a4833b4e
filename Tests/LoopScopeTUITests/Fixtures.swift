import LoopScopeTUI
import LoopScopeWire

/// A snapshot like the demo's after /hash has been hurting loop 0 for a while.
enum Fixtures {
    static func snapshot(time: Double = 1_000, stalled: Bool = false) -> Snapshot {
        var loop = LoopFigures(name: "loop 0", lag: WindowedPercentiles(last1s: Percentiles(count: 200, p50: 300, p90: 20_000, p99: 41_200, p999: 50_000, max: 52_000, mean: 4_000),
                                                                       last10s: Percentiles(count: 2000, p50: 300, p90: 20_000, p99: 41_200, p999: 50_000, max: 52_000, mean: 4_000)),
                               stalls: 318, culprit: "/hash", culpritHeldMicros: 900_000, lagHistory: [100, 200, 30_000, 52_000, 48_000])
        loop.cpu = 0.93
        loop.cpu10s = 0.9
        if stalled { loop.stallInProgress = StallInProgress(route: "/report", heldMicros: 340_000) }
        loop.stallSites = [
            StallSite(function: "CPUWork.mix(rounds:seed:)", frames: ["CPUWork.mix(rounds:seed:)", "CPUWork.hash(milliseconds:seed:)", "closure #1 in DemoJobs.hash"],
                      state: .running, route: "/hash", last60s: StallTotals(micros: 812_000, stalls: 20), total: StallTotals(micros: 2_400_000, stalls: 64),
                      maxMicros: 36_900, lastSeen: time - 3),
            StallSite(function: "blocked in clock_nanosleep", state: .blocked, syscall: "clock_nanosleep", route: "/db",
                      last60s: StallTotals(micros: 554_000, stalls: 20), total: StallTotals(micros: 554_000, stalls: 20), maxMicros: 29_800, lastSeen: time - 75),
        ]
        var tasks = LoopFigures(name: "tasks", lag: WindowedPercentiles(last10s: Percentiles(count: 10, p50: 100, p99: 200, max: 1_000)), lagHistory: [100, 100])
        tasks.stallSites = [StallSite(function: "FakeAsync.renderPage(milliseconds:seed:) (async)", frames: ["FakeAsync.renderPage(milliseconds:seed:) (async)"],
                                      state: .running, route: "/render", last60s: StallTotals(micros: 95_000, stalls: 4), maxMicros: 31_000, lastSeen: time - 1)]
        let threads = PoolFigures(name: "threads", kind: .threads, size: 4, live: 4, busy: 4, queued: 37, queueLimit: 1024, completed: 5000, completedPerSecond: 410,
                                  queueWait: WindowedPercentiles(last10s: Percentiles(count: 100, p99: 18_000)), queueHistory: [0, 3, 10, 37])
        let processes = PoolFigures(name: "processes", kind: .processes, size: 2, live: 2, busy: 1, queued: 0, queueLimit: 1024, completedPerSecond: 35,
                                    workers: [WorkerFigures(pid: 501, jobsDone: 10, restarts: 0, residentBytes: 8_000_000, busy: true),
                                              WorkerFigures(pid: 502, jobsDone: 12, restarts: 1, residentBytes: 9_000_000, busy: false)])
        func route(_ path: String, _ model: ExecutionModel, rate: Double, p50: UInt64, p99: UInt64, cls: WorkClass, held: Double) -> RouteFigures {
            RouteFigures(method: "GET", path: path, model: model, requests: 1000, rate1s: rate, rate10s: rate,
                         latency: WindowedPercentiles(last10s: Percentiles(count: 100, p50: p50, p90: p99, p99: p99, p999: p99, max: p99 + 5_000)),
                         p99History: [1_000, 2_000, p99], rateHistory: [UInt64(rate)], split: LatencySplit(loopWaitMicros: 2_500, queueMicros: 100, computeMicros: 5_000, ioMicros: 0),
                         compute: ComputeFigures(wallMicros: 5_000, cpuMicros: 4_900, samples: 100), workClass: cls,
                         held: HeldFigures(count: 318, totalMicros: 1_590_000, perRequestMicros: held),
                         histogram: [HistogramBucket(upToMicros: 1_000, count: 10), HistogramBucket(upToMicros: 10_000, count: 80), HistogramBucket(upToMicros: 100_000, count: 10)])
        }
        let routes = [
            route("/hello", .loop, rate: 800, p50: 200, p99: 44_000, cls: .io, held: 0),
            route("/hash", .loop, rate: 300, p50: 5_100, p99: 48_300, cls: .cpu, held: 5_000),
            route("/fanout", .loop, rate: 300, p50: 21_000, p99: 63_000, cls: .io, held: 0),
            route("/db", .loop, rate: 200, p50: 10_400, p99: 55_000, cls: .blocking, held: 10_200),
        ]
        let diagnosis = Diagnosis(id: "cpu-on-loop:/hash", severity: .critical, summary: "/hash holds loop 0 for 5.0 ms a request (CPU-bound)",
                                  evidence: ["held 5.0 ms"], action: .reroute(route: "/hash", model: .threads))
        return Snapshot(sequence: 7, time: time,
                        server: ServerInfo(name: "demo-app", pid: 4242, startedAt: time - 192, uptimeSeconds: 192, address: "127.0.0.1:8080", cores: 2),
                        loops: [loop], tasks: tasks, pools: [threads, processes], routes: routes,
                        events: [ControlEvent(sequence: 1, time: time - 2, kind: .route, subject: "/hash", old: "threads", new: "loop", actor: "pid 1 uid 0")],
                        diagnoses: [diagnosis])
    }

    static func live() -> DashboardState {
        var s = DashboardState(target: "demo-app")
        s.receive(snapshot(), dropped: 0, now: 1_000)
        return s
    }

    /// A group of two workers (`demo/4240`), both answering: the demo's snapshot twice, w1's
    /// thread pool one larger and only w0 with the /hash diagnosis.
    static func group(now: Double = 1_000) -> DashboardState {
        var s = DashboardState(group: "demo/4240", size: 2, staleAfter: 2, now: now)
        for i in 0..<2 {
            var snap = snapshot(time: now)
            snap.server.pid = 4241 + Int32(i)
            snap.server.member = GroupMember(group: "demo/4240", worker: i, size: 2)
            snap.pools[0].size += i
            if i == 1 { snap.diagnoses = [] }
            s.workerConnected(i, pid: snap.server.pid, readOnly: false, now: now)
            s.receive(worker: i, snap, dropped: 0, now: now)
        }
        s.tick(now: now)
        return s
    }
}
