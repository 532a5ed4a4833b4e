import LoopScopeWire

/// Rules over a snapshot's figures. Pure: the same snapshot gives the same diagnoses, worst first.
public enum DiagnosisRules {
    /// A compute stage holding a loop or the cooperative pool at least this long per request is a problem.
    public static let heldPerRequestMicros = 1_000.0
    /// Queue wait at or above this share of latency means the pool is too small.
    public static let queueShare = 0.5
    /// Headroom over Little's law when suggesting a worker pool's size.
    public static let headroom = 1.25
    /// For connection pools, the spare connections over Little's law's busy ones in units of its
    /// square root (square-root staffing): with random arrivals a pool sized at 1.25× its mean
    /// still makes a good share of callers wait, and a spare connection costs far less than
    /// requests waiting. 1.5 leaves a few percent of callers waiting at all.
    public static let connectionSpareFactor = 1.5

    /// The size Little's law suggests for `busy` workers or connections busy on average.
    static func size(forBusy busy: Double, connections: Bool) -> Int {
        Int((connections ? busy + connectionSpareFactor * busy.squareRoot() : busy * headroom).rounded(.up))
    }
    /// A route answering at least this share of its requests with 5xx (over ten seconds, and at
    /// least `errorsAtLeast` of them) is failing; half of them, critically.
    public static let errorShare = 0.05
    public static let errorsAtLeast = 5.0
    /// The largest size suggested for a pool of blocking work.
    public static let maxBlockingPoolSize = 64

    /// Whether a pool of this kind is never suggested more workers than cores, whatever its
    /// routes do: worker processes exist to run CPU work apart from the server.
    static func cappedAtCores(_ kind: PoolKind) -> Bool {
        switch kind {
        case .processes: return true
        case .threads, .connections: return false
        }
    }

    public static func diagnose(_ s: Snapshot) -> [Diagnosis] {
        var out: [Diagnosis] = []
        for r in s.routes { out += routeRules(r, s) }
        for p in s.pools { out += poolRules(p, s) }
        return out.sorted { a, b in a.severity != b.severity ? a.severity > b.severity : a.id < b.id }
    }

    // MARK: Routes

    static func routeRules(_ r: RouteFigures, _ s: Snapshot) -> [Diagnosis] {
        var out: [Diagnosis] = []
        let wallMs = ms(r.compute.wallMicros)
        let onExecutor = r.model == .loop || r.model == .task
        let computeHeld = r.held.perRequestMicros - r.held.asyncMicros
        let computeSite = topSite(of: r.path, in: s, onTasks: r.model != .loop)
        if onExecutor, computeHeld >= heldPerRequestMicros, r.workClass == .cpu || r.workClass == .blocking || r.compute.cpuMicros >= heldPerRequestMicros {
            let cpuBound = r.compute.cpuMicros >= WorkClassifier.cpuFraction * r.compute.wallMicros
            let executor = r.model == .loop ? culpritLoops(r.path, s) : "the cooperative pool (\(s.server.cores) threads)"
            let lag = r.model == .loop ? s.loops.map(\.lag.last10s.p99).max() ?? 0 : s.tasks.lag.last10s.p99
            let severity: Diagnosis.Severity = (r.held.perRequestMicros >= 5_000 || lag >= 10_000) ? .critical : .warning
            let id = "\(cpuBound ? "cpu" : "blocking")-on-\(r.model == .loop ? "loop" : "tasks"):\(r.path)"
            let summary: String
            let place = computeSite.map { " in \($0.function)" } ?? ""
            if cpuBound {
                summary = "\(r.path) runs \(wallMs) of CPU on \(executor) per request\(place); every request sharing it waits. Move it to threads: no GIL, they run CPU work in parallel."
            } else {
                summary = "\(r.path) blocks \(executor) for \(wallMs) per request\(place) (CPU \(ms(r.compute.cpuMicros))); every request sharing it waits. Move the blocking call to threads."
            }
            out.append(Diagnosis(
                id: id, severity: severity, summary: summary,
                evidence: [
                    "compute wall \(wallMs), CPU \(ms(r.compute.cpuMicros)) per request (\(r.compute.samples) samples, 10 s)",
                    "held \(ms(computeHeld)) per request; \(r.held.count) holds over the threshold",
                    "\(r.model == .loop ? "loop" : "tasks") lag p99 \(ms(Double(lag))) (10 s)",
                ] + (computeSite.map { [siteEvidence($0)] } ?? []),
                action: .reroute(route: r.path, model: .threads)
            ))
        }
        if r.held.asyncMicros >= heldPerRequestMicros {
            let cpuBound = r.workClass == .cpu
            let site = topSite(of: r.path, in: s, onTasks: true)
            let place = site.map { " in \($0.function)" } ?? ""
            let what = cpuBound ? "runs \(ms(r.held.asyncMicros)) of CPU" : "blocks for \(ms(r.held.asyncMicros))"
            out.append(Diagnosis(
                id: "\(cpuBound ? "cpu" : "blocking")-in-async:\(r.path)",
                severity: (r.held.asyncMicros >= 5_000 || s.tasks.lag.last10s.p99 >= 10_000) ? .critical : .warning,
                summary: "\(r.path) \(what) per request inside async code\(place), without ever awaiting: fake async. It holds one of the cooperative pool's \(s.server.cores) threads, and every task waits for them. Move that work off the pool: to a thread pool (NIOThreadPool, or a LoopScope route's compute stage on threads).",
                evidence: [
                    "async stages held a thread \(ms(r.held.asyncMicros)) per request without suspending (10 s)",
                    "compute wall \(wallMs), CPU \(ms(r.compute.cpuMicros)) per request (\(r.compute.samples) samples)",
                    "tasks lag p99 \(ms(Double(s.tasks.lag.last10s.p99))) (10 s)",
                ] + (site.map { [siteEvidence($0)] } ?? []),
                action: nil
            ))
        }
        // Threads or processes: a job that overran its timeout on a thread keeps that thread
        // (and what it holds) until it returns, since a thread cannot be stopped; in a worker
        // process the job is killed with its worker. A job that crashed or overran in a worker
        // is where it belongs.
        let jobTimeouts = r.jobTimeouts(in: s)
        if r.model == .threads, jobTimeouts > 0, s.pool(for: .processes) != nil {
            out.append(Diagnosis(
                id: "runaway-on-threads:\(r.path)", severity: .warning,
                summary: "\(r.path)'s job overran its timeout \(jobTimeouts) times on threads; each left a thread running that nothing can stop, holding its CPU and memory until the job ends. Move it to processes: a timed-out job's worker is killed and replaced.",
                evidence: ["\(jobTimeouts) × \(ExecutionModel.threads.rawValue) job timeout (since start)"]
                    + (s.pool(for: .threads).map { ["threads pool: \($0.timedOut ?? 0) timed out, size \($0.size)"] } ?? []),
                action: .reroute(route: r.path, model: .processes)
            ))
        }
        let isolated = r.model == .processes && (jobTimeouts > 0 || s.pool(for: .processes).map { $0.failed > 0 || $0.workers.contains { $0.restarts > 0 } } == true)
        if r.model == .processes, r.workClass == .blocking, !isolated {
            out.append(Diagnosis(
                id: "blocking-in-processes:\(r.path)", severity: .info,
                summary: "\(r.path) mostly waits (CPU \(ms(r.compute.cpuMicros)) of \(wallMs)) yet occupies a whole worker process; threads wait as well for less.",
                evidence: ["compute wall \(wallMs), CPU \(ms(r.compute.cpuMicros)) per request"],
                action: .reroute(route: r.path, model: .threads)
            ))
        }
        var failingInPool = false
        if let pool = s.pool(for: r.model), r.status.s5xx > 0, pool.failed > 0 || pool.workers.contains(where: { $0.restarts > 0 }) {
            let restarts = pool.workers.reduce(0) { $0 + $1.restarts }
            if restarts > 0 || pool.failed > 0 {
                failingInPool = true
                out.append(Diagnosis(
                    id: "failing-in-pool:\(r.path)", severity: restarts > 0 ? .critical : .warning,
                    summary: "\(r.path) fails in the \(pool.name) pool: \(pool.failed) jobs failed\(restarts > 0 ? ", \(restarts) worker restarts" : ""). Check the job; moving a crashing job into the server would take the server down with it.",
                    evidence: ["\(r.status.s5xx) responses 5xx", "pool failed \(pool.failed)", "worker restarts \(restarts)"],
                    action: nil
                ))
            }
        }
        if !failingInPool, let errors = r.errorsPerSecond, r.rate10s > 0, errors * 10 >= errorsAtLeast, errors / r.rate10s >= errorShare {
            let share = errors / r.rate10s
            let latest = r.recentErrors?.max { $0.lastSeen < $1.lastSeen }
            out.append(Diagnosis(
                id: "failing:\(r.path)", severity: share >= 0.5 ? .critical : .warning,
                summary: "\(r.path) fails \(Int((share * 100).rounded())) % of its requests (5xx, last 10 s)" + (latest.map { ": \($0.status) \($0.message)" } ?? "."),
                evidence: ["\(fmt(errors))/s of \(fmt(r.rate10s)) req/s answered 5xx (10 s)"]
                    + (r.recentErrors ?? []).suffix(3).reversed().map { "\($0.count) × \($0.status) \($0.message)" },
                action: nil
            ))
        }
        return out
    }

    // MARK: Pools

    static func poolRules(_ p: PoolFigures, _ s: Snapshot) -> [Diagnosis] {
        var out: [Diagnosis] = []
        // A connection pool's routes are the ones that checked out its connections; a worker
        // pool's, the ones whose model runs on it. Their wait is `pool wait` or `queue`.
        let connections = p.kind == .connections
        let routes = connections ? s.routes.filter { (p.routes ?? []).contains($0.path) } : s.routes.filter { s.pool(for: $0.model)?.name == p.name }
        let arrival = p.arrivalsPerSecond ?? routes.reduce(0.0) { $0 + $1.rate10s }
        let service = p.runTime.last10s.mean / 1_000_000
        let cpuBound = !connections && !routes.isEmpty && routes.allSatisfy { $0.workClass == .cpu }
        let cap = cpuBound || cappedAtCores(p.kind) ? max(s.server.cores, 1) : maxBlockingPoolSize
        let latency = routes.reduce(0.0) { $0 + $1.split.queueMicros + $1.split.computeMicros + $1.split.poolWaitMicros + $1.split.ioMicros }
        let queue = routes.reduce(0.0) { $0 + (connections ? $1.split.poolWaitMicros : $1.split.queueMicros) }
        let timedOut = p.timedOut ?? 0
        if latency > 0, queue / latency >= queueShare, p.queued > 0 || p.queueWait.last10s.p99 > 1_000 || p.rejected > 0 || timedOut > 0 {
            let needed = size(forBusy: arrival * service, connections: connections)
            let suggested = min(max(needed, p.size + 1), cap)
            let waitName = connections ? "connection wait" : "queue wait"
            let evidence = [
                "\(waitName) \(Int(queue / latency * 100)) % of the latency of \(routes.map(\.path).joined(separator: ", ")); waiting \(p.queued)/\(p.queueLimit), wait p99 \(ms(Double(p.queueWait.last10s.p99)))",
                "arrival \(fmt(arrival))/s × \(connections ? "hold" : "service") \(ms(service * 1_000_000)) = \(fmt(arrival * service)) busy \(connections ? "connections" : "workers") (Little's law); size \(p.size)",
                "rejected \(p.rejected)" + (p.timedOut.map { ", timed out \($0)" } ?? ""),
            ]
            if suggested > p.size {
                let why = connections
                    ? "requests wait longer for a connection than they use one"
                    : "requests wait longer in its queue than they run"
                out.append(Diagnosis(
                    id: "queueing:\(p.name)", severity: p.rejected > 0 || timedOut > 0 ? .critical : .warning,
                    summary: "The \(p.name) pool is too small: \(why). Resize it to \(suggested) (Little's law: \(fmt(arrival * service)) busy on average, \(connections ? "plus spares for bursts" : "plus \(Int((headroom - 1) * 100)) % headroom")).",
                    evidence: evidence, action: .resize(pool: p.name, size: suggested)
                ))
            } else {
                out.append(Diagnosis(
                    id: "saturated:\(p.name)", severity: .critical,
                    summary: "The \(p.name) pool queues but already uses all \(cap) cores the work can use; shed load or make the work cheaper.",
                    evidence: evidence, action: nil
                ))
            }
        }
        if cpuBound, p.size > s.server.cores, routes.contains(where: { $0.rate10s > 0 }) {
            out.append(Diagnosis(
                id: "oversubscribed:\(p.name)", severity: .info,
                summary: "The \(p.name) pool has \(p.size) workers for CPU-bound work on \(s.server.cores) cores; the extra workers only add switching.",
                evidence: ["routes on it are CPU-bound: \(routes.map(\.path).joined(separator: ", "))", "size \(p.size), cores \(s.server.cores)"],
                action: .resize(pool: p.name, size: s.server.cores)
            ))
        }
        return out
    }

    /// The application site that stalled an executor longest for `route` (on the cooperative
    /// pool, or on a loop), over the last 60 s then since start.
    static func topSite(of route: String, in s: Snapshot, onTasks: Bool) -> StallSite? {
        s.stallSites(of: route).first { ($0.executor == s.tasks.name) == onTasks && $0.site.isApplicationCode }?.site
    }

    private static func siteEvidence(_ site: StallSite) -> String {
        let chain = site.frames.prefix(3).joined(separator: " ← ")
        return "stall site \(chain.isEmpty ? site.function : chain): \(ms(Double(site.last60s.micros))) stalled in \(site.last60s.stalls) stalls (60 s)"
    }

    private static func culpritLoops(_ route: String, _ s: Snapshot) -> String {
        let held = s.loops.filter { $0.culprit == route }.map(\.name)
        return held.isEmpty ? "its event loop" : held.joined(separator: ", ")
    }

    static func ms(_ micros: Double) -> String {
        micros >= 10_000 ? "\(Int((micros / 1000).rounded())) ms" : "\(fmt(micros / 1000)) ms"
    }

    static func fmt(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(r)
    }
}
