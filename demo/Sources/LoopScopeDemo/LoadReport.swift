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
        /// The median, over the run's second half, of each whole second's p99 (when the plan
        /// kept seconds): what a typical second looked like, which one stall of the machine
        /// that runs the load (a starved load generator) cannot move the way it moves `p99`.
        public var typicalP99: UInt64? = nil
    }

    public var mode: LoadPlan.Mode
    public var seconds: Double
    public var rows: [Row]
    /// Errors by kind: `HTTP 503` (with Retry-After), `HTTP 503 without Retry-After`, `HTTP 502`,
    /// `closed by the server before answering`, `connection: …`.
    public var errors: [String: Int]
    /// Keep-alive connections the server closed, reopened (not errors): between requests, or
    /// as a request went out (that GET then retried once on a fresh connection).
    public var reopened: Int? = nil

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
        lines.append(Units.padRight("path", 14) + Units.padLeft("requests", 10) + Units.padLeft("req/s", 9) + Units.padLeft("p50", 9) + Units.padLeft("p90", 9) + Units.padLeft("p99", 9) + Units.padLeft("p99.9", 9) + Units.padLeft("max", 9) + Units.padLeft("errors", 8))
        for r in rows {
            lines.append(Units.padRight(r.path, 14) + Units.padLeft(String(r.requests), 10) + Units.padLeft(Units.rate(r.rate), 9) + Units.padLeft(Units.micros(r.p50), 9) + Units.padLeft(Units.micros(r.p90), 9)
                + Units.padLeft(Units.micros(r.p99), 9) + Units.padLeft(Units.micros(r.p999), 9) + Units.padLeft(Units.micros(r.max), 9) + Units.padLeft(String(r.errors), 8))
        }
        for (kind, n) in errors.sorted(by: { $0.value > $1.value }) { lines.append("  \(n) × \(kind)") }
        if let n = reopened, n > 0 { lines.append("  \(n) connection\(n == 1 ? "" : "s") the server closed, reopened (a request caught in the close retried once)") }
        return lines.joined(separator: "\n") + "\n"
    }

}
