import LoopScopeWire

/// A check at the end of a phase: a figure from the load report or the server, against a bound. Pure.
public struct Expectation: Codable, Sendable, Equatable {
    /// What is checked.
    public enum Figure: String, Codable, Sendable, CaseIterable {
        /// Of `route`, from the open-loop load report (ms).
        case p99, p50
        /// Of `route` (or `all`), from the load report.
        case errors, rate
        /// From the server: `executor`'s per-second lag p99 (the worst loop's for `loops`),
        /// median over the phase's second half (ms).
        case lagP99 = "lag_p99"
        /// How many times lower `lag_p99` (of the same `executor`) is than in phase `baseline`.
        case lagDrop = "lag_drop"
        /// Of `pool`, from the server.
        case rejected, queued, size
        /// How many times lower `route`'s client p99 is than in phase `baseline` (a typical
        /// second's p99, where the load kept seconds, as the demo's does).
        case p99Drop = "p99_drop"
        /// `route`'s p99 as the server reports it (last 10 s, loop wait included) ÷ the client's p99.
        case serverP99Ratio = "server_p99_ratio"
        /// How many times lower `route`'s server p99 is (median of its last 3 seconds) than the
        /// server's 10 s p99 at the end of phase `baseline`.
        case serverP99Drop = "server_p99_drop"
        /// The top stall site of `route` (on any loop or the cooperative pool) names `names`.
        case stallSite = "stall_site"
        /// The share of `route`'s mean latency (server, last 10 s) spent waiting for a
        /// connection from a connection pool, 0…1.
        case poolWaitShare = "pool_wait_share"
        /// A diagnosis whose id contains `names` is on the server (1) or not (0).
        case diagnosis
    }

    /// Whose lag `lag_p99` and `lag_drop` read.
    public enum LagExecutor: String, Codable, Sendable, CaseIterable {
        /// The event loops (the worst one each second): where LoopScope's own routes run.
        case loops
        /// The cooperative pool: where Hummingbird's async handlers run.
        case tasks

        public var title: String { self == .loops ? "loop lag" : "cooperative pool lag" }

        /// Its lag p99 over the last second in `s`, µs.
        public func lastSecondP99(_ s: Snapshot) -> UInt64 {
            switch self {
            case .loops: return s.loops.map(\.lag.last1s.p99).max() ?? 0
            case .tasks: return s.tasks.lag.last1s.p99
            }
        }
    }

    public var figure: Figure
    /// A request path (`/invoices/7`); server figures read the route serving it (`/invoices/{id}`).
    public var route: String?
    public var pool: String?
    /// For `lag_p99` and `lag_drop` (default `loops`).
    public var executor: LagExecutor?
    public var baseline: String?
    /// Pass when the figure is below this (ms for latencies).
    public var below: Double?
    /// Pass when the figure is at least this (ms for latencies; a factor for p99_drop).
    public var atLeast: Double?
    /// For `stall_site`: text the site's function must contain.
    public var names: String?

    /// The outcome of one expectation.
    public struct Verdict: Sendable, Equatable {
        public var description: String
        public var value: Double?
        public var passed: Bool
    }

    /// What a phase measured, for evaluating expectations.
    public struct PhaseResult: Sendable {
        public var name: String
        public var report: LoadReport
        public var snapshot: Snapshot
        /// Each executor's per-second lag p99, median over the phase's second half, µs.
        public var lagP99Micros: [LagExecutor: UInt64]

        public init(name: String, report: LoadReport, snapshot: Snapshot, lagP99Micros: [LagExecutor: UInt64]) {
            self.name = name
            self.report = report
            self.snapshot = snapshot
            self.lagP99Micros = lagP99Micros
        }
    }

    /// The server's route for `route` in `s`.
    private func serverRoute(_ s: Snapshot) -> RouteFigures? { s.route(serving: route ?? "") }

    public func evaluate(_ r: PhaseResult, earlier: [PhaseResult]) -> Verdict {
        let value: Double?
        var unit = " ms"
        switch figure {
        case .p99: value = r.report.row(route ?? "")?.p99.millis
        case .p50: value = r.report.row(route ?? "")?.p50.millis
        case .errors: value = r.report.row(route ?? "all").map { Double($0.errors) }; unit = ""
        case .rate: value = r.report.row(route ?? "all")?.rate; unit = "/s"
        case .lagP99: value = r.lagP99Micros[lagExecutor]?.millis
        case .lagDrop:
            unit = "×"
            if let base = earlier.first(where: { $0.name == baseline })?.lagP99Micros[lagExecutor], let now = r.lagP99Micros[lagExecutor] {
                value = Double(base) / Double(max(now, 1))
            } else {
                value = nil
            }
        case .rejected: value = r.snapshot.pool(pool ?? "").map { Double($0.rejected) }; unit = ""
        case .queued: value = r.snapshot.pool(pool ?? "").map { Double($0.queued) }; unit = ""
        case .size: value = r.snapshot.pool(pool ?? "").map { Double($0.size) }; unit = ""
        case .p99Drop:
            unit = "×"
            // A typical second's p99 where the run kept seconds (the demo's do).
            func p99(_ row: LoadReport.Row?) -> UInt64? { row.map { $0.typicalP99 ?? $0.p99 } }
            if let base = p99(earlier.first(where: { $0.name == baseline })?.report.row(route ?? "")), let now = p99(r.report.row(route ?? "")), now > 0 {
                value = Double(base) / Double(now)
            } else {
                value = nil
            }
        case .serverP99Ratio:
            unit = "×"
            if let client = r.report.row(route ?? "")?.p99, client > 0, let server = serverRoute(r.snapshot)?.latency.last10s.p99, server > 0 {
                value = Double(server) / Double(client)
            } else {
                value = nil
            }
        case .serverP99Drop:
            unit = "×"
            let history = serverRoute(r.snapshot)?.p99History.suffix(3).sorted() ?? []
            if let base = earlier.first(where: { $0.name == baseline }).flatMap({ serverRoute($0.snapshot) })?.latency.last10s.p99, !history.isEmpty {
                value = Double(base) / Double(max(history[history.count / 2], 1))
            } else {
                value = nil
            }
        case .poolWaitShare:
            unit = ""
            value = serverRoute(r.snapshot).map { route in
                let total = route.split.parts.reduce(0) { $0 + $1.micros }
                return total > 0 ? route.split.poolWaitMicros / total : 0
            }
        case .diagnosis:
            unit = ""
            value = r.snapshot.diagnoses.contains { $0.id.contains(names ?? "") } ? 1 : 0
        case .stallSite:
            let site = r.snapshot.stallSites(of: serverRoute(r.snapshot)?.path ?? route ?? "").first { $0.site.isApplicationCode }
            let found = site.map { $0.site.function }
            let passed = found.map { f in names.map { f.contains($0) } ?? true } ?? false
            let described = site.map { "\($0.executor) \($0.site.function) (\(Units.micros($0.site.last60s.micros)) in \($0.site.last60s.stalls) stalls)" } ?? "none"
            return Verdict(description: "\(route ?? "?") top stall site \(described), expected to name \(names ?? "a function")", value: nil, passed: passed)
        }
        let subject = [route, pool].compactMap { $0 }.first.map { "\($0) " } ?? ""
        let name: String
        switch figure {
        case .p99Drop: name = "\(subject)p99 (typical second) \(baseline ?? "?") ÷ now"
        case .lagP99: name = "\(lagExecutor.title) p99"
        case .lagDrop: name = "\(lagExecutor.title) p99 \(baseline ?? "?") ÷ now"
        case .serverP99Ratio: name = "\(subject)p99 server (with loop wait) ÷ client"
        case .serverP99Drop: name = "\(subject)server p99 \(baseline ?? "?") ÷ now"
        case .poolWaitShare: name = "\(subject)pool wait share of latency"
        case .diagnosis: name = "diagnosis \(names ?? "?") present (1) or not (0), of \(r.snapshot.diagnoses.map(\.id).joined(separator: ", "))"
        default: name = "\(subject)\(figure.rawValue)"
        }
        guard let value else { return Verdict(description: "\(name): no data", value: nil, passed: false) }
        var passed = true
        var bound = ""
        if let atLeast { passed = passed && value >= atLeast; bound += " ≥ \(fmt(atLeast))\(unit)" }
        if let below { passed = passed && value < below; bound += (atLeast == nil ? "" : " and") + " < \(fmt(below))\(unit)" }
        return Verdict(description: "\(name) \(unit.isEmpty ? fmt(value) : Units.fixed1(value))\(unit), expected\(bound)", value: value, passed: passed)
    }

    private var lagExecutor: LagExecutor { executor ?? .loops }

    /// Whole numbers as such, others with one decimal, or two when one would change the value.
    private func fmt(_ v: Double) -> String {
        if v == v.rounded() { return String(Int(v)) }
        let one = Units.fixed1(v)
        return abs((Double(one) ?? v) - v) < 1e-9 ? one : String((v * 100).rounded() / 100)
    }
}

extension UInt64 {
    var millis: Double { Double(self) / 1000 }
}
