/// One worker's snapshot, as a group merge takes it.
public struct WorkerSnapshot: Sendable, Equatable, PublicMemberwiseInit {
    /// The worker's index in its group (`GroupMember.worker`).
    public var worker: Int
    /// What the worker sent.
    public var snapshot: Snapshot

    private init(_ generated: Never) { switch generated {} }
}

/// Merges the snapshots of a group's workers (`serve --workers N`) into one snapshot of the
/// group, as `attach --group` shows it. Pure.
///
/// What is merged how:
/// - Counts and rates (requests, status classes, in flight, rates, pool sizes, busy, queued,
///   limits, completions, rejections, connections, events dropped) are summed.
/// - Since-start distributions (`RouteFigures.histogram`, `lagHistogram`,
///   `queueWaitHistogram`) are merged exactly: every worker buckets on the same 1-2-5 series,
///   so counts add bucket by bucket, and sums add.
/// - Windowed percentiles cannot be merged from summaries. `count` is summed, `mean` weighted
///   by count and `max` is the largest, exactly; `p50`…`p999` are the worst worker's. That is
///   an upper bound of the group's percentile (each worker has at least that share of its
///   values at or below its own, so the group has at least that share at or below the
///   largest), and the figure that matters: the worst worker is what its clients feel.
/// - Event loops are not merged: each worker's loops and its cooperative pool are listed as
///   `w0 loop 0`, `w0 tasks`, `w1 loop 0`, … with their own figures and stall sites; `tasks`
///   becomes `all tasks`, the worst of the workers' cooperative pools (lag as above, stalls
///   summed, histograms merged, per second the highest lag), its sites left on the rows above.
/// - Histories align at the newest second: per second, rates and queue depths are summed (a
///   queue's is the sum of the workers' maxima: an upper bound), p99 and lag take the highest.
/// - Means per request (latency split, held time, request measures) are weighted by each worker's rate; compute
///   means by their samples.
/// - Diagnoses of every worker are kept, worst first, each summary led by its worker (`w1: `),
///   ids unchanged (a fix goes to the workers that have that id). A route running under
///   different models on different workers adds a warning `group-models:<route>`; sizing
///   across the group adds `group-oversubscribed` (more event loops, or threads for CPU-bound
///   routes, than cores over all workers) and `group-imbalance` (one worker serving far more
///   than its share: SO_REUSEPORT spreads connections, not requests).
/// - Events of every worker, in time order, each actor followed by its worker (`… on w1`).
///
/// A worker that is not in `workers` (dead, restarting, not answering) contributes nothing;
/// the caller says which ones are missing.
public enum GroupMerge {
    /// The id prefix of the diagnosis that says a route runs under different models.
    public static let mixedModelsPrefix = "group-models:"
    /// The name of the merged cooperative-pool row.
    public static let allTasks = "all tasks"

    /// How worker `index` leads its labels: `w1`.
    public static func label(_ index: Int) -> String { "w\(index)" }

    /// The group's snapshot. `group` is the group's id (`demo-app/4242`, the supervisor's name
    /// and pid); `workers` may be in any order and is read in worker order.
    public static func merge(_ workers: [WorkerSnapshot], group: String) -> Snapshot {
        let ws = workers.sorted { $0.worker < $1.worker }
        let snaps = ws.map(\.snapshot)
        let first = snaps.first
        let supervisor = group.split(separator: "/").last.flatMap { Int32($0) } ?? 0
        let server = ServerInfo(
            name: first?.server.name ?? String(group.split(separator: "/").first ?? ""), pid: supervisor,
            startedAt: snaps.map(\.server.startedAt).min() ?? 0, uptimeSeconds: snaps.map(\.server.uptimeSeconds).max() ?? 0,
            address: first?.server.address ?? "", instrumented: snaps.allSatisfy(\.server.instrumented),
            // One machine: its cores, not a sum.
            cores: snaps.map(\.server.cores).max() ?? 1,
            member: nil)
        var loops: [LoopFigures] = []
        for w in ws {
            for e in w.snapshot.loops + [w.snapshot.tasks] {
                var labelled = e
                labelled.name = "\(label(w.worker)) \(e.name)"
                loops.append(labelled)
            }
        }
        let labelledDiagnoses = ws.flatMap { w in
            w.snapshot.diagnoses.map { d in
                var labelled = d
                labelled.summary = "\(label(w.worker)): \(d.summary)"
                return labelled
            }
        }
        // Worst first; within a severity, the group's own, then by worker.
        let diagnoses = (mixedModels(ws) + sizing(ws, cores: server.cores) + labelledDiagnoses).enumerated()
            .sorted { ($0.element.severity, -$0.offset) > ($1.element.severity, -$1.offset) }
            .map(\.element)
        let events = ws.flatMap { w in
            w.snapshot.events.map { e in
                var labelled = e
                labelled.actor = "\(e.actor) on \(label(w.worker))"
                return labelled
            }
        }
        .sorted { ($0.time, $0.sequence) < ($1.time, $1.sequence) }
        return Snapshot(
            sequence: snaps.map(\.sequence).max() ?? 0, time: snaps.map(\.time).max() ?? 0, server: server,
            loops: loops, tasks: mergeTasks(snaps.map(\.tasks)), pools: mergePools(snaps.map(\.pools)),
            routes: mergeRoutes(ws), events: events, eventsDropped: snaps.reduce(0) { $0 + $1.eventsDropped },
            diagnoses: diagnoses, selfCost: mergeSelfCost(snaps.map(\.selfCost)),
            connections: mergeConnections(snaps.compactMap(\.connections)))
    }

    // MARK: - Distributions

    /// Histogram buckets merged exactly: counts added bucket by bucket (by upper bound).
    public static func mergeBuckets(_ all: [[HistogramBucket]]) -> [HistogramBucket] {
        var counts: [UInt64: UInt64] = [:]
        for buckets in all { for b in buckets { counts[b.upToMicros, default: 0] += b.count } }
        return counts.keys.sorted().map { HistogramBucket(upToMicros: $0, count: counts[$0]!) }
    }

    /// Histograms merged exactly; nil when none of them is there.
    public static func mergeHistograms(_ all: [CumulativeHistogram?]) -> CumulativeHistogram? {
        let present = all.compactMap { $0 }
        guard !present.isEmpty else { return nil }
        return CumulativeHistogram(buckets: mergeBuckets(present.map(\.buckets)), sumMicros: present.reduce(0) { $0 + $1.sumMicros })
    }

    /// A window's summaries merged: count summed, mean weighted by count, max the largest
    /// (exact); p50…p999 the worst worker's (an upper bound of the group's; see the type).
    public static func mergePercentiles(_ all: [Percentiles]) -> Percentiles {
        let seen = all.filter { $0.count > 0 }
        let count = seen.reduce(0) { $0 + $1.count }
        guard count > 0 else { return .empty }
        return Percentiles(count: count, p50: seen.map(\.p50).max()!, p90: seen.map(\.p90).max()!, p99: seen.map(\.p99).max()!,
                           p999: seen.map(\.p999).max()!, max: seen.map(\.max).max()!,
                           mean: seen.reduce(0) { $0 + $1.mean * Double($1.count) } / Double(count))
    }

    /// Both windows merged as `mergePercentiles` merges one.
    public static func mergeWindows(_ all: [WindowedPercentiles]) -> WindowedPercentiles {
        WindowedPercentiles(last1s: mergePercentiles(all.map(\.last1s)), last10s: mergePercentiles(all.map(\.last10s)))
    }

    /// Per-second histories aligned at the newest second, combined second by second.
    static func mergeHistories<T>(_ all: [[T]], _ combine: (T, T) -> T) -> [T] {
        let length = all.map(\.count).max() ?? 0
        var out: [T?] = Array(repeating: nil, count: length)
        for h in all {
            for (i, v) in h.enumerated() {
                let slot = length - h.count + i
                out[slot] = out[slot].map { combine($0, v) } ?? v
            }
        }
        return out.compactMap { $0 }
    }

    /// A mean weighted by `weight`; 0 when the weights are.
    static func weightedMean<T>(_ items: [T], _ value: (T) -> Double, by weight: (T) -> Double) -> Double {
        let total = items.reduce(0) { $0 + weight($1) }
        guard total > 0 else { return 0 }
        return items.reduce(0) { $0 + value($1) * weight($1) } / total
    }

    // MARK: - Executors, pools, routes

    static func mergeTasks(_ all: [LoopFigures]) -> LoopFigures {
        let culprit = all.max { $0.culpritHeldMicros < $1.culpritHeldMicros }
        return LoopFigures(
            name: allTasks, lag: mergeWindows(all.map(\.lag)), stalls: all.reduce(0) { $0 + $1.stalls },
            culprit: culprit?.culprit, culpritHeldMicros: culprit?.culpritHeldMicros ?? 0,
            lagHistory: mergeHistories(all.map(\.lagHistory), Swift.max),
            stallInProgress: all.compactMap(\.stallInProgress).max { $0.heldMicros < $1.heldMicros },
            lagHistogram: mergeHistograms(all.map(\.lagHistogram)),
            cpu: all.compactMap(\.cpu).max(), cpu10s: all.compactMap(\.cpu10s).max())
    }

    static func mergePools(_ all: [[PoolFigures]]) -> [PoolFigures] {
        var order: [String] = []
        var byName: [String: [PoolFigures]] = [:]
        for pools in all {
            for p in pools {
                if byName[p.name] == nil { order.append(p.name) }
                byName[p.name, default: []].append(p)
            }
        }
        return order.map { name in
            let ps = byName[name]!
            func sum(_ k: KeyPath<PoolFigures, Int>) -> Int { ps.reduce(0) { $0 + $1[keyPath: k] } }
            func sum(_ k: KeyPath<PoolFigures, UInt64>) -> UInt64 { ps.reduce(0) { $0 + $1[keyPath: k] } }
            var p = PoolFigures(
                name: name, kind: ps[0].kind, size: sum(\.size), live: sum(\.live), busy: sum(\.busy), queued: sum(\.queued),
                queueLimit: sum(\.queueLimit), completed: sum(\.completed), rejected: sum(\.rejected), failed: sum(\.failed),
                completedPerSecond: ps.reduce(0) { $0 + $1.completedPerSecond },
                queueWait: mergeWindows(ps.map(\.queueWait)), runTime: mergeWindows(ps.map(\.runTime)),
                queueHistory: mergeHistories(ps.map(\.queueHistory), +), workers: ps.flatMap(\.workers))
            p.timedOut = ps.contains { $0.timedOut != nil } ? ps.reduce(0) { $0 + ($1.timedOut ?? 0) } : nil
            p.queueWaitHistogram = mergeHistograms(ps.map(\.queueWaitHistogram))
            p.arrivalsPerSecond = ps.contains { $0.arrivalsPerSecond != nil } ? ps.reduce(0) { $0 + ($1.arrivalsPerSecond ?? 0) } : nil
            p.routes = ps.contains { $0.routes != nil } ? Array(Set(ps.flatMap { $0.routes ?? [] })).sorted() : nil
            return p
        }
    }

    static func mergeRoutes(_ ws: [WorkerSnapshot]) -> [RouteFigures] {
        var order: [String] = []
        var byKey: [String: [RouteFigures]] = [:]
        for w in ws {
            for r in w.snapshot.routes {
                let key = r.method + " " + r.path
                if byKey[key] == nil { order.append(key) }
                byKey[key, default: []].append(r)
            }
        }
        return order.map { key in
            let rs = byKey[key]!
            func sum(_ k: KeyPath<RouteFigures, UInt64>) -> UInt64 { rs.reduce(0) { $0 + $1[keyPath: k] } }
            let byRate = { (r: RouteFigures) in r.rate10s }
            var split = LatencySplit()
            for part in LatencySplit.Part.allCases { split[part] = weightedMean(rs, { $0.split[part] }, by: byRate) }
            var perRequest = PerRequestMeans()
            for measure in RequestMeasure.allCases { perRequest[measure] = weightedMean(rs, { $0.perRequest[measure] }, by: byRate) }
            let bySamples = { (r: RouteFigures) in Double(r.compute.samples) }
            let compute = ComputeFigures(wallMicros: weightedMean(rs, { $0.compute.wallMicros }, by: bySamples),
                                         cpuMicros: weightedMean(rs, { $0.compute.cpuMicros }, by: bySamples),
                                         samples: rs.reduce(0) { $0 + $1.compute.samples })
            let held = HeldFigures(count: rs.reduce(0) { $0 + $1.held.count }, totalMicros: rs.reduce(0) { $0 + $1.held.totalMicros },
                                   perRequestMicros: weightedMean(rs, { $0.held.perRequestMicros }, by: byRate),
                                   asyncMicros: weightedMean(rs, { $0.held.asyncMicros }, by: byRate))
            let status = StatusCounts(s2xx: rs.reduce(0) { $0 + $1.status.s2xx }, s3xx: rs.reduce(0) { $0 + $1.status.s3xx },
                                      s4xx: rs.reduce(0) { $0 + $1.status.s4xx }, s5xx: rs.reduce(0) { $0 + $1.status.s5xx })
            // The class the most measured compute stages had; unknown only when no worker knows.
            let known = rs.filter { $0.workClass != .unknown }
            let workClass = known.max { $0.compute.samples < $1.compute.samples }?.workClass ?? .unknown
            return RouteFigures(
                method: rs[0].method, path: rs[0].path, model: majorityModel(rs), requests: sum(\.requests),
                inFlight: rs.reduce(0) { $0 + $1.inFlight }, rate1s: rs.reduce(0) { $0 + $1.rate1s }, rate10s: rs.reduce(0) { $0 + $1.rate10s },
                status: status, latency: mergeWindows(rs.map(\.latency)), p99History: mergeHistories(rs.map(\.p99History), Swift.max),
                rateHistory: mergeHistories(rs.map(\.rateHistory), +), split: split, perRequest: perRequest, compute: compute, workClass: workClass, held: held,
                histogram: mergeBuckets(rs.map(\.histogram)),
                latencySumMicros: rs.allSatisfy { $0.latencySumMicros != nil } ? rs.reduce(0) { $0 + ($1.latencySumMicros ?? 0) } : nil,
                errorsPerSecond: rs.contains { $0.errorsPerSecond != nil } ? rs.reduce(0) { $0 + ($1.errorsPerSecond ?? 0) } : nil,
                timeouts: mergeTimeouts(rs.map { $0.timeouts ?? [] }),
                recentErrors: mergeErrors(rs.map { $0.recentErrors ?? [] }),
                slowRequests: mergeSlow(rs.map { $0.slowRequests ?? [] }))
        }
    }

    /// The workers' latest errors as one route keeps them: identical ones merged (counts
    /// summed), the latest `RouteError.kept`, oldest first; nil when none.
    static func mergeErrors(_ all: [[RouteError]]) -> [RouteError]? {
        var merged: [RouteError] = []
        for e in all.joined() {
            if let i = merged.firstIndex(where: { $0.status == e.status && $0.message == e.message }) {
                merged[i].count += e.count
                merged[i].firstSeen = min(merged[i].firstSeen, e.firstSeen)
                merged[i].lastSeen = max(merged[i].lastSeen, e.lastSeen)
            } else {
                merged.append(e)
            }
        }
        let kept = merged.sorted { $0.lastSeen < $1.lastSeen }.suffix(RouteError.kept)
        return kept.isEmpty ? nil : Array(kept)
    }

    /// The workers' timeouts, summed by reason, most first; nil when none.
    static func mergeTimeouts(_ all: [[TimeoutCount]]) -> [TimeoutCount]? {
        let sums = Dictionary(all.joined().map { ($0.reason, $0.count) }, uniquingKeysWith: +)
        return sums.isEmpty ? nil : sums.map { TimeoutCount(reason: $0.key, count: $0.value) }.sorted { $0.count != $1.count ? $0.count > $1.count : $0.reason < $1.reason }
    }

    /// The workers' latest slow requests, the latest `SlowRequest.kept`, oldest first; nil when none.
    static func mergeSlow(_ all: [[SlowRequest]]) -> [SlowRequest]? {
        let kept = all.joined().sorted { $0.time < $1.time }.suffix(SlowRequest.kept)
        return kept.isEmpty ? nil : Array(kept)
    }

    /// The model most workers run a route under (ties: the lowest worker's).
    static func majorityModel(_ rs: [RouteFigures]) -> ExecutionModel {
        let counts = Dictionary(rs.map { ($0.model, 1) }, uniquingKeysWith: +)
        return rs.map(\.model).max { counts[$0]! < counts[$1]! } ?? rs[0].model
    }

    /// A warning for each route the workers run under different models.
    static func mixedModels(_ ws: [WorkerSnapshot]) -> [Diagnosis] {
        var order: [String] = []
        var models: [String: [(Int, ExecutionModel)]] = [:]
        for w in ws {
            for r in w.snapshot.routes {
                if models[r.path] == nil { order.append(r.path) }
                models[r.path, default: []].append((w.worker, r.model))
            }
        }
        return order.compactMap { path in
            let m = models[path]!
            guard Set(m.map(\.1)).count > 1 else { return nil }
            let where_ = m.map { "\($0.1.rawValue) on \(label($0.0))" }.joined(separator: ", ")
            return Diagnosis(id: mixedModelsPrefix + path, severity: .warning,
                             summary: "\(path) runs differently across workers (\(where_)): choose one model for all",
                             evidence: m.map { "\(label($0.0)): \($0.1.rawValue)" }, action: nil)
        }
    }

    /// A worker serving at least this many times its fair share of the group's requests, and
    /// three times what the least busy worker serves (the group at least
    /// `imbalanceMinimumRate` req/s), is out of balance.
    public static let imbalanceShare = 1.5
    public static let imbalanceMinimumRate = 50.0

    /// Sizing across the group: event loops and CPU-bound threads against the machine's
    /// cores, and how evenly the workers share the requests.
    static func sizing(_ ws: [WorkerSnapshot], cores: Int) -> [Diagnosis] {
        guard ws.count > 1 else { return [] }
        var out: [Diagnosis] = []
        let loops = ws.reduce(0) { $0 + $1.snapshot.loops.count }
        // Threads of each worker's `threads` pool, when CPU-bound routes run on it.
        let cpuThreads = ws.reduce(0) { sum, w in
            let s = w.snapshot
            let cpuOnThreads = s.routes.contains { $0.model == .threads && $0.workClass == .cpu && $0.rate10s > 0 }
            return sum + (cpuOnThreads ? s.pool(for: .threads)?.size ?? 0 : 0)
        }
        if loops > cores || cpuThreads > cores {
            var what: [String] = []
            if loops > cores { what.append("\(loops) event loops") }
            if cpuThreads > cores { what.append("\(cpuThreads) threads running CPU-bound routes") }
            out.append(Diagnosis(
                id: "group-oversubscribed", severity: .info,
                summary: "\(ws.count) workers have \(what.joined(separator: " and ")) on \(cores) cores: past the cores they only take turns. Size workers × loops (and CPU threads) to the cores.",
                evidence: ws.map { w in "\(label(w.worker)): \(w.snapshot.loops.count) loops, threads pool \(w.snapshot.pool(for: .threads)?.size ?? 0)" } + ["cores \(cores)"],
                action: nil))
        }
        let rates = ws.map { ($0.worker, $0.snapshot.routes.reduce(0.0) { $0 + $1.rate10s }) }
        let total = rates.reduce(0.0) { $0 + $1.1 }
        if total >= imbalanceMinimumRate, let hot = rates.max(by: { $0.1 < $1.1 }), let cold = rates.min(by: { $0.1 < $1.1 }),
           hot.1 >= imbalanceShare * total / Double(ws.count), hot.1 >= 3 * cold.1 {
            out.append(Diagnosis(
                id: "group-imbalance", severity: .warning,
                summary: "\(label(hot.0)) serves \(Int((hot.1 / total * 100).rounded())) % of the group's requests: SO_REUSEPORT spreads connections, not requests, so a few long-lived connections can load one worker while the others idle. Have clients open more connections (or recycle them).",
                evidence: rates.map { "\(label($0.0)): \(Int($0.1.rounded())) req/s" },
                action: nil))
        }
        return out
    }

    static func mergeSelfCost(_ all: [SelfCost]) -> SelfCost {
        SelfCost(nanosPerRequest: weightedMean(all, \.nanosPerRequest, by: { _ in 1 }), statisticsBytes: all.reduce(0) { $0 + $1.statisticsBytes },
                 framesDropped: all.reduce(0) { $0 + $1.framesDropped }, snapshotMicros: all.map(\.snapshotMicros).max() ?? 0,
                 stallSamples: all.reduce(0) { $0 + $1.stallSamples },
                 stallSampleMicros: weightedMean(all, \.stallSampleMicros, by: { Double($0.stallSamples) }))
    }

    static func mergeConnections(_ all: [ConnectionFigures]) -> ConnectionFigures? {
        guard !all.isEmpty else { return nil }
        func sum(_ k: KeyPath<ConnectionFigures, UInt64>) -> UInt64 { all.reduce(0) { $0 + $1[keyPath: k] } }
        return ConnectionFigures(open: sum(\.open), limit: sum(\.limit), accepted: sum(\.accepted), closedHeaderTimeout: sum(\.closedHeaderTimeout),
                                 closedIdle: sum(\.closedIdle), closedBodyTimeout: sum(\.closedBodyTimeout),
                                 refusedOverLimit: sum(\.refusedOverLimit), bodyTooLarge: sum(\.bodyTooLarge))
    }
}
