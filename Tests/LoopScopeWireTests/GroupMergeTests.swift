import Testing
@testable import LoopScopeWire

@Suite struct GroupMergeTests {
    /// A worker's snapshot: one loop, one thread pool, /hash with the given latency buckets.
    static func worker(_ index: Int, pid: Int32, rate: Double, p99: UInt64, lagP99: UInt64, buckets: [HistogramBucket], model: ExecutionModel = .loop,
                       diagnoses: [Diagnosis] = []) -> WorkerSnapshot {
        let latency = WindowedPercentiles(last1s: Percentiles(count: UInt64(rate), p50: p99 / 10, p90: p99 / 2, p99: p99, p999: p99, max: p99 + 1_000, mean: Double(p99) / 5),
                                          last10s: Percentiles(count: UInt64(rate * 10), p50: p99 / 10, p90: p99 / 2, p99: p99, p999: p99, max: p99 + 2_000, mean: Double(p99) / 5))
        let route = RouteFigures(method: "GET", path: "/hash", model: model, requests: UInt64(rate * 100), inFlight: 2, rate1s: rate, rate10s: rate,
                                 status: StatusCounts(s2xx: UInt64(rate * 100), s5xx: 1), latency: latency, p99History: [p99, p99 * 2], rateHistory: [UInt64(rate)],
                                 split: LatencySplit(loopWaitMicros: Double(lagP99), queueMicros: 0, computeMicros: 5_000, ioMicros: 0),
                                 compute: ComputeFigures(wallMicros: 5_000, cpuMicros: 4_900, samples: 10), workClass: .cpu,
                                 held: HeldFigures(count: 3, totalMicros: 15_000, perRequestMicros: 5_000),
                                 histogram: buckets, latencySumMicros: buckets.reduce(0) { $0 + $1.upToMicros * $1.count })
        let loop = LoopFigures(name: "loop 0", lag: WindowedPercentiles(last10s: Percentiles(count: 100, p50: 10, p90: 100, p99: lagP99, p999: lagP99, max: lagP99 * 2, mean: 50)),
                               stalls: 5, culprit: "/hash", culpritHeldMicros: lagP99, lagHistory: [lagP99],
                               lagHistogram: CumulativeHistogram(buckets: [HistogramBucket(upToMicros: 10, count: 90), HistogramBucket(upToMicros: 20, count: 10)], sumMicros: 1_100))
        var pool = PoolFigures(name: "threads", kind: .threads, size: 2, live: 2, busy: 1, queued: 3, queueLimit: 1024, completed: 100, rejected: 1,
                               completedPerSecond: 10, queueHistory: [1, 3])
        pool.timedOut = 1
        return WorkerSnapshot(worker: index, snapshot: Snapshot(
            sequence: 10, time: 1_000 + Double(index), server: ServerInfo(name: "app", pid: pid, startedAt: 900, uptimeSeconds: 100 - Double(index), address: "127.0.0.1:8080",
                                                                        cores: 2, member: GroupMember(group: "app/42", worker: index, size: 2)),
            loops: [loop], tasks: LoopFigures(name: "tasks", stalls: 1), pools: [pool], routes: [route], diagnoses: diagnoses,
            connections: ConnectionFigures(open: 3, limit: 100, accepted: 10)))
    }

    static let bucketsA = [HistogramBucket(upToMicros: 1_000, count: 10), HistogramBucket(upToMicros: 2_000, count: 5), HistogramBucket(upToMicros: 5_000, count: 1)]
    static let bucketsB = [HistogramBucket(upToMicros: 1_000, count: 2), HistogramBucket(upToMicros: 2_000, count: 0), HistogramBucket(upToMicros: 5_000, count: 7),
                           HistogramBucket(upToMicros: 10_000, count: 4), HistogramBucket(upToMicros: 20_000, count: 1)]

    @Test func sinceStartHistogramsMergeExactlyBucketByBucket() throws {
        let a = Self.worker(0, pid: 100, rate: 50, p99: 4_000, lagP99: 300, buckets: Self.bucketsA)
        let b = Self.worker(1, pid: 101, rate: 150, p99: 18_000, lagP99: 9_000, buckets: Self.bucketsB)
        let merged = GroupMerge.merge([b, a], group: "app/42")
        let route = try #require(merged.route("/hash"))
        #expect(route.histogram == [HistogramBucket(upToMicros: 1_000, count: 12), HistogramBucket(upToMicros: 2_000, count: 5), HistogramBucket(upToMicros: 5_000, count: 8),
                                    HistogramBucket(upToMicros: 10_000, count: 4), HistogramBucket(upToMicros: 20_000, count: 1)])
        // The merged histogram counts exactly what the workers counted, at every bound.
        let ha = CumulativeHistogram(buckets: Self.bucketsA), hb = CumulativeHistogram(buckets: Self.bucketsB), hm = CumulativeHistogram(buckets: route.histogram)
        for bound: UInt64 in [1_000, 2_000, 5_000, 10_000, 20_000, 50_000] {
            #expect(hm.count(atOrBelow: bound) == ha.count(atOrBelow: bound) + hb.count(atOrBelow: bound))
        }
        #expect(route.latencySumMicros == a.snapshot.routes[0].latencySumMicros! + b.snapshot.routes[0].latencySumMicros!)
        // Loop lag histograms of the group's cooperative pools, pools' queue waits likewise.
        #expect(merged.loops.map { $0.lagHistogram?.count } == [100, nil, 100, nil])
    }

    @Test func countsAndRatesAreSummedAndPoolsAddUp() throws {
        let a = Self.worker(0, pid: 100, rate: 50, p99: 4_000, lagP99: 300, buckets: Self.bucketsA)
        let b = Self.worker(1, pid: 101, rate: 150, p99: 18_000, lagP99: 9_000, buckets: Self.bucketsB)
        let merged = GroupMerge.merge([a, b], group: "app/42")
        let route = try #require(merged.route("/hash"))
        #expect(route.rate1s == 200 && route.rate10s == 200)
        #expect(route.requests == 20_000 && route.inFlight == 4)
        #expect(route.status == StatusCounts(s2xx: 20_000, s5xx: 2))
        #expect(route.rateHistory == [200])
        #expect(merged.totalRate == 200)
        let pool = try #require(merged.pool("threads"))
        #expect((pool.size, pool.live, pool.busy, pool.queued, pool.queueLimit) == (4, 4, 2, 6, 2048))
        #expect((pool.completed, pool.rejected, pool.timedOut) == (200, 2, 2))
        #expect(pool.completedPerSecond == 20)
        #expect(pool.queueHistory == [2, 6])
        #expect(merged.connections == ConnectionFigures(open: 6, limit: 200, accepted: 20))
        // Means per request weigh each worker by its rate: (50 × 300 + 150 × 9000) / 200.
        #expect(route.split.loopWaitMicros == 6_825)
        #expect(merged.server.pid == 42 && merged.server.name == "app" && merged.server.uptimeSeconds == 100)
        #expect(merged.server.cores == 2, "one machine's cores, not a sum")
    }

    @Test func lagIsTheWorstWorkersAndEveryLoopIsListedByWorker() throws {
        let a = Self.worker(0, pid: 100, rate: 50, p99: 4_000, lagP99: 300, buckets: Self.bucketsA)
        let b = Self.worker(1, pid: 101, rate: 150, p99: 18_000, lagP99: 9_000, buckets: Self.bucketsB)
        let merged = GroupMerge.merge([a, b], group: "app/42")
        #expect(merged.loops.map(\.name) == ["w0 loop 0", "w0 tasks", "w1 loop 0", "w1 tasks"])
        #expect(merged.loops[2].lag.last10s.p99 == 9_000, "each loop keeps its own figures")
        #expect(merged.loops.max { $0.lag.last10s.p99 < $1.lag.last10s.p99 }?.name == "w1 loop 0")
        #expect(merged.tasks.name == GroupMerge.allTasks)
        #expect(merged.tasks.stalls == 2)
        // Windowed route percentiles: the worst worker's; count, mean and max exact.
        let l = try #require(merged.route("/hash")).latency.last10s
        #expect((l.p50, l.p90, l.p99, l.p999) == (1_800, 9_000, 18_000, 18_000))
        #expect(l.max == 20_000)
        #expect(l.count == 2_000)
        #expect(l.mean == (500 * 800 + 1_500 * 3_600) / 2_000)
        #expect(try #require(merged.route("/hash")).p99History == [18_000, 36_000])
    }

    @Test func diagnosesOfEveryWorkerAreKeptAndLabelled() {
        let d = Diagnosis(id: "cpu-on-loop:/hash", severity: .critical, summary: "/hash holds loop 0", evidence: [], action: .reroute(route: "/hash", model: .threads))
        let a = Self.worker(0, pid: 100, rate: 50, p99: 4_000, lagP99: 300, buckets: Self.bucketsA, model: .threads)
        let b = Self.worker(1, pid: 101, rate: 150, p99: 18_000, lagP99: 9_000, buckets: Self.bucketsB, diagnoses: [d])
        let merged = GroupMerge.merge([a, b], group: "app/42")
        #expect(merged.diagnoses.map(\.summary).first == "w1: /hash holds loop 0")
        #expect(merged.diagnoses.first?.id == "cpu-on-loop:/hash", "ids stay what the worker's fix takes")
        // /hash runs on threads in w0 and on the loop in w1: the group says so (and that w1
        // serves 75 % of the requests).
        let warnings = merged.diagnoses.filter { $0.severity == .warning }
        #expect(merged.diagnoses.count == 3)
        #expect(warnings.map(\.id) == [GroupMerge.mixedModelsPrefix + "/hash", "group-imbalance"])
        #expect(warnings.first?.summary.contains("threads on w0, loop on w1") == true)
        #expect(merged.route("/hash")?.model == .threads, "ties go to the lowest worker")
    }

    @Test func aMissingWorkerContributesNothing() throws {
        let b = Self.worker(1, pid: 101, rate: 150, p99: 18_000, lagP99: 9_000, buckets: Self.bucketsB)
        let merged = GroupMerge.merge([b], group: "app/42")
        #expect(merged.loops.map(\.name) == ["w1 loop 0", "w1 tasks"])
        #expect(merged.route("/hash")?.rate10s == 150)
        #expect(merged.route("/hash")?.histogram == Self.bucketsB)
        #expect(merged.pool("threads")?.size == 2)
        let none = GroupMerge.merge([], group: "app/42")
        #expect(none.routes.isEmpty && none.loops.isEmpty && none.server.pid == 42 && none.server.name == "app")
    }
}

@Suite struct GroupMergeNotableTests {
    @Test func errorsMergeByMessageAndSlowRequestsKeepTheLatest() {
        let a = [RouteError(status: 504, message: "no postgres connection", count: 3, firstSeen: 10, lastSeen: 20)]
        let b = [RouteError(status: 504, message: "no postgres connection", count: 2, firstSeen: 5, lastSeen: 15),
                 RouteError(status: 502, message: "upstream unreachable", count: 1, firstSeen: 30, lastSeen: 30)]
        let merged = GroupMerge.mergeErrors([a, b])
        #expect(merged?.map(\.count) == [5, 1])
        #expect(merged?.first?.firstSeen == 5)
        #expect(merged?.first?.lastSeen == 20)
        #expect(GroupMerge.mergeErrors([[], []]) == nil)
        let slow = (0..<8).map { SlowRequest(time: Double($0), status: 200, latencyMicros: 1_000, thresholdMicros: 500, split: LatencySplit()) }
        #expect(GroupMerge.mergeSlow([Array(slow.prefix(4)), Array(slow.suffix(4))])?.map(\.time) == [3, 4, 5, 6, 7])
    }
}

@Suite struct GroupSizingTests {
    func worker(_ i: Int, loops: Int, threads: Int, cpuRate: Double, helloRate: Double) -> WorkerSnapshot {
        let cpu = RouteFigures(method: "GET", path: "/hash", model: .threads, rate10s: cpuRate, workClass: .cpu)
        let hello = RouteFigures(method: "GET", path: "/hello", model: .loop, rate10s: helloRate, workClass: .io)
        let pool = PoolFigures(name: "threads", kind: .threads, size: threads, live: threads, busy: 0, queued: 0, queueLimit: 1024)
        let s = Snapshot(server: ServerInfo(name: "g", pid: Int32(100 + i), startedAt: 0, uptimeSeconds: 1, address: "", cores: 2),
                         loops: (0..<loops).map { LoopFigures(name: "loop \($0)") }, pools: [pool], routes: [cpu, hello])
        return WorkerSnapshot(worker: i, snapshot: s)
    }

    @Test func workersTimesLoopsOverTheCoresIsOversubscribed() {
        let fits = GroupMerge.merge([worker(0, loops: 1, threads: 1, cpuRate: 10, helloRate: 100), worker(1, loops: 1, threads: 1, cpuRate: 10, helloRate: 100)], group: "g/1")
        #expect(!fits.diagnoses.contains { $0.id == "group-oversubscribed" })
        let over = GroupMerge.merge([worker(0, loops: 2, threads: 2, cpuRate: 10, helloRate: 100), worker(1, loops: 2, threads: 2, cpuRate: 10, helloRate: 100)], group: "g/1")
        let d = over.diagnoses.first { $0.id == "group-oversubscribed" }
        #expect(d?.summary.contains("4 event loops and 4 threads running CPU-bound routes on 2 cores") == true, "\(String(describing: d?.summary))")
    }

    @Test func oneWorkerServingMostOfTheRequestsIsOutOfBalance() {
        let even = GroupMerge.merge([worker(0, loops: 1, threads: 1, cpuRate: 0, helloRate: 100), worker(1, loops: 1, threads: 1, cpuRate: 0, helloRate: 90)], group: "g/1")
        #expect(!even.diagnoses.contains { $0.id == "group-imbalance" })
        let hot = GroupMerge.merge([worker(0, loops: 1, threads: 1, cpuRate: 0, helloRate: 5), worker(1, loops: 1, threads: 1, cpuRate: 0, helloRate: 300)], group: "g/1")
        let d = hot.diagnoses.first { $0.id == "group-imbalance" }
        #expect(d?.summary.hasPrefix("w1 serves 98 %") == true, "\(String(describing: d?.summary))")
        // Too little traffic to say.
        let quiet = GroupMerge.merge([worker(0, loops: 1, threads: 1, cpuRate: 0, helloRate: 0), worker(1, loops: 1, threads: 1, cpuRate: 0, helloRate: 20)], group: "g/1")
        #expect(!quiet.diagnoses.contains { $0.id == "group-imbalance" })
    }
}
