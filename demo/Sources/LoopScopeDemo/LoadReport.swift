import LoopScopeWire

/// The outcome of a load run: per path and overall, latencies in microseconds. Pure value.
public struct LoadReport: Sendable, Codable, Equatable {
    public struct Row: Sendable, Codable, Equatable {
        public var path: String
        public var requests: Int
        public var errors: Int
        public var rate: Double
        public var p50: UInt64
        public var p90: UInt64
        public var p99: UInt64
        public var p999: UInt64
        public var max: UInt64
    }

    public var mode: LoadPlan.Mode
    public var seconds: Double
    public var rows: [Row]
    /// Errors by kind: `HTTP 503`, `connection: …`.
    public var errors: [String: Int]

    /// The `all` row.
    public var total: Row { rows.last! }

    public func row(_ path: String) -> Row? { rows.first { $0.path == path } }

    /// A human table.
    public var table: String {
        var lines: [String] = []
        let mode: String
        switch self.mode {
        case .open(let rate): mode = "open loop at \(Units.rate(rate)) req/s (latency from intended send time)"
        case .closed(let c): mode = "closed loop, \(c) in flight"
        }
        lines.append("\(mode), \(Units.fixed1(seconds)) s")
        lines.append(pad("path", 14) + lpad("requests", 10) + lpad("req/s", 9) + lpad("p50", 9) + lpad("p90", 9) + lpad("p99", 9) + lpad("p99.9", 9) + lpad("max", 9) + lpad("errors", 8))
        for r in rows {
            lines.append(pad(r.path, 14) + lpad(String(r.requests), 10) + lpad(Units.rate(r.rate), 9) + lpad(Units.micros(r.p50), 9) + lpad(Units.micros(r.p90), 9)
                + lpad(Units.micros(r.p99), 9) + lpad(Units.micros(r.p999), 9) + lpad(Units.micros(r.max), 9) + lpad(String(r.errors), 8))
        }
        for (kind, n) in errors.sorted(by: { $0.value > $1.value }) { lines.append("  \(n) × \(kind)") }
        return lines.joined(separator: "\n") + "\n"
    }

    private func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
    private func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? " " + s : String(repeating: " ", count: n - s.count) + s }
}
