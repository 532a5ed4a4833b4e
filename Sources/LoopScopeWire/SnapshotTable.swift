/// A snapshot as a plain-text report for people (`loopscope dump --format table`). Pure.
public enum SnapshotTable {
    public static func render(_ s: Snapshot) -> String {
        var lines: [String] = []
        lines.append("\(s.server.name)  pid \(s.server.pid)  \(s.server.address)  up \(Units.uptime(s.server.uptimeSeconds))  \(Units.rate(s.totalRate)) req/s")
        lines.append("")
        lines.append(pad("EXECUTOR", 10) + lpad("lag p50", 9) + lpad("p99", 9) + lpad("max", 9) + lpad("stalls", 8) + "  culprit")
        for e in s.loops + [s.tasks] {
            let l = e.lag.last10s
            let culprit = e.stallInProgress.map { "STALLED \(Units.micros($0.heldMicros)) by \($0.route ?? "?")" } ?? (e.culprit ?? "")
            lines.append(pad(e.name, 10) + lpad(Units.micros(l.p50), 9) + lpad(Units.micros(l.p99), 9) + lpad(Units.micros(l.max), 9) + lpad(String(e.stalls), 8) + "  " + culprit)
        }
        lines.append("")
        lines.append(pad("POOL", 12) + lpad("size", 5) + lpad("busy", 5) + lpad("queue", 7) + lpad("limit", 7) + lpad("wait p99", 10) + lpad("done/s", 8) + lpad("rejected", 9) + lpad("failed", 7))
        for p in s.pools {
            lines.append(pad(p.name, 12) + lpad(String(p.size), 5) + lpad(String(p.busy), 5) + lpad(String(p.queued), 7) + lpad(String(p.queueLimit), 7)
                + lpad(Units.micros(p.queueWait.last10s.p99), 10) + lpad(Units.rate(p.completedPerSecond), 8) + lpad(String(p.rejected), 9) + lpad(String(p.failed), 7))
        }
        lines.append("")
        lines.append(pad("ROUTE", 12) + pad("model", 10) + lpad("req/s", 7) + lpad("p50", 9) + lpad("p99", 9) + lpad("max", 9) + lpad("5xx", 6) + "  " + pad("class", 9) + lpad("held", 8))
        for r in s.routes {
            let l = r.latency.last10s
            lines.append(pad(r.path, 12) + pad(r.model.rawValue, 10) + lpad(Units.rate(r.rate10s), 7) + lpad(Units.micros(l.p50), 9) + lpad(Units.micros(l.p99), 9)
                + lpad(Units.micros(l.max), 9) + lpad(String(r.status.s5xx), 6) + "  " + pad(r.workClass.rawValue, 9) + lpad(Units.micros(r.held.perRequestMicros), 8))
        }
        if !s.diagnoses.isEmpty {
            lines.append("")
            lines.append("DIAGNOSES")
            for d in s.diagnoses {
                lines.append("[\(d.severity.rawValue)] \(d.id): \(d.summary)")
                if let a = d.action { lines.append("    fix: loopscope ctl fix \(d.id)   (\(a.summary))") }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? String(s.prefix(n - 1)) + " " : s + String(repeating: " ", count: n - s.count) }
    static func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? " " + s : String(repeating: " ", count: n - s.count) + s }
}
