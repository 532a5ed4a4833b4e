import LoopScopeWire

/// A check at the end of a phase: a figure from the load report or the server, against a bound.
///
/// `figure` is one of: `p99` / `p50` / `errors` / `rate` (of `route`, from the open-loop load
/// report), `loop_lag_p99` (from the server: the worst loop's per-second lag p99, median over the
/// phase's second half), `rejected` / `queued` / `size` (of `pool`), or `p99_drop` (how many
/// times lower `route`'s p99 is than in phase `baseline`). Pure.
public struct Expectation: Codable, Sendable, Equatable {
    public var figure: String
    public var route: String?
    public var pool: String?
    public var baseline: String?
    /// Pass when the figure is below this (ms for latencies).
    public var below: Double?
    /// Pass when the figure is at least this (ms for latencies; a factor for p99_drop).
    public var atLeast: Double?

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
        /// The worst loop's per-second lag p99, median over the phase's second half, µs.
        public var loopLagP99Micros: UInt64

        public init(name: String, report: LoadReport, snapshot: Snapshot, loopLagP99Micros: UInt64) {
            self.name = name
            self.report = report
            self.snapshot = snapshot
            self.loopLagP99Micros = loopLagP99Micros
        }
    }

    public func evaluate(_ r: PhaseResult, earlier: [PhaseResult]) -> Verdict {
        let value: Double?
        var unit = " ms"
        switch figure {
        case "p99": value = r.report.row(route ?? "")?.p99.millis
        case "p50": value = r.report.row(route ?? "")?.p50.millis
        case "errors": value = r.report.row(route ?? "all").map { Double($0.errors) }; unit = ""
        case "rate": value = r.report.row(route ?? "all")?.rate; unit = "/s"
        case "loop_lag_p99": value = r.loopLagP99Micros.millis
        case "rejected": value = r.snapshot.pool(pool ?? "").map { Double($0.rejected) }; unit = ""
        case "queued": value = r.snapshot.pool(pool ?? "").map { Double($0.queued) }; unit = ""
        case "size": value = r.snapshot.pool(pool ?? "").map { Double($0.size) }; unit = ""
        case "p99_drop":
            unit = "×"
            if let base = earlier.first(where: { $0.name == baseline })?.report.row(route ?? "")?.p99, let now = r.report.row(route ?? "")?.p99, now > 0 {
                value = Double(base) / Double(now)
            } else {
                value = nil
            }
        default: value = nil
        }
        let subject = [route, pool].compactMap { $0 }.first.map { "\($0) " } ?? ""
        let name = figure == "p99_drop" ? "\(subject)p99 \(baseline ?? "?") ÷ now" : "\(subject)\(figure)"
        guard let value else { return Verdict(description: "\(name): no data", value: nil, passed: false) }
        var passed = true
        var bound = ""
        if let below { passed = passed && value < below; bound += " < \(fmt(below))\(unit)" }
        if let atLeast { passed = passed && value >= atLeast; bound += " ≥ \(fmt(atLeast))\(unit)" }
        return Verdict(description: "\(name) \(fmt(value))\(unit), expected\(bound)", value: value, passed: passed)
    }

    private func fmt(_ v: Double) -> String { Units.fixed1(v).hasSuffix(".0") ? String(Int(v.rounded())) : Units.fixed1(v) }
}

extension UInt64 {
    var millis: Double { Double(self) / 1000 }
}
