/// A snapshot as a plain-text report for people (`loopscope dump --format table`). Pure.
public enum SnapshotTable {
    public static func render(_ s: Snapshot) -> String {
        var lines: [String] = []
        lines.append("\(s.server.name)  pid \(s.server.pid)  \(s.server.address)  up \(Units.uptime(s.server.uptimeSeconds))  \(Units.rate(s.totalRate)) req/s")
        if let c = s.connections {
            lines.append("connections \(c.open) open (limit \(c.limit)), \(c.accepted) accepted; closed by the server: "
                + c.closed.map { "\($0.reason.label) \($0.count)" }.joined(separator: ", "))
        }
        lines.append("")
        lines.append(pad("EXECUTOR", 10) + Units.padLeft("lag p50", 9) + Units.padLeft("p99", 9) + Units.padLeft("max", 9) + Units.padLeft("cpu 10s", 8) + Units.padLeft("stalls", 8) + "  culprit")
        for e in s.loops + [s.tasks] {
            let l = e.lag.last10s
            let culprit = e.stallInProgress.map { "STALLED \(Units.micros($0.heldMicros)) by \($0.route ?? "?")" } ?? (e.culprit ?? "")
            lines.append(pad(e.name, 10) + Units.padLeft(Units.micros(l.p50), 9) + Units.padLeft(Units.micros(l.p99), 9) + Units.padLeft(Units.micros(l.max), 9) + Units.padLeft(Units.percent(e.cpu10s), 8) + Units.padLeft(String(e.stalls), 8) + "  " + culprit)
        }
        lines.append("")
        lines.append(pad("POOL", 12) + Units.padLeft("size", 5) + Units.padLeft("busy", 5) + Units.padLeft("queue", 7) + Units.padLeft("limit", 7) + Units.padLeft("wait p99", 10) + Units.padLeft("done/s", 8) + Units.padLeft("rejected", 9) + Units.padLeft("failed", 7) + Units.padLeft("timeout", 8))
        for p in s.pools {
            lines.append(pad(p.name, 12) + Units.padLeft(String(p.size), 5) + Units.padLeft(String(p.busy), 5) + Units.padLeft(String(p.queued), 7) + Units.padLeft(String(p.queueLimit), 7)
                + Units.padLeft(Units.micros(p.queueWait.last10s.p99), 10) + Units.padLeft(Units.rate(p.completedPerSecond), 8) + Units.padLeft(String(p.rejected), 9) + Units.padLeft(String(p.failed), 7) + Units.padLeft(p.timedOut.map(String.init) ?? "-", 8))
        }
        lines.append("")
        let columns = RouteColumn.all.compactMap { c in c.table.map { (c, $0) } }
        func cell(_ text: String, _ t: (header: String, width: Int, leftAligned: Bool)) -> String { t.leftAligned ? pad(text, t.width) : Units.padLeft(text, t.width) }
        lines.append(columns.map { cell($0.1.header, $0.1) }.joined())
        for r in s.routes {
            lines.append(columns.map { cell($0.0.text(r), $0.1) }.joined())
        }
        let sites = (s.loops + [s.tasks]).flatMap { e in e.stallSites.map { (e.name, $0) } }
        if !sites.isEmpty {
            lines.append("")
            lines.append("STALL SITES (where stalled threads were; the innermost function of the application)")
            lines.append(pad("executor", 10) + pad("function", 44) + Units.padLeft("60 s", 9) + Units.padLeft("stalls", 7) + Units.padLeft("max", 9) + "  route")
            for (executor, site) in sites {
                lines.append(pad(executor, 10) + pad(site.function, 44) + Units.padLeft(Units.micros(site.last60s.micros, empty: "0"), 9) + Units.padLeft(String(site.last60s.stalls), 7)
                    + Units.padLeft(Units.micros(site.maxMicros), 9) + "  " + (site.route ?? ""))
                if site.frames.count > 1 { lines.append(String(repeating: " ", count: 10) + "← " + site.frames.dropFirst().joined(separator: " ← ")) }
            }
        }
        let notable = RequestLog.entries(s)
        let timedOut = s.routes.filter { $0.timeouts != nil }
        if !notable.isEmpty || !timedOut.isEmpty {
            lines.append("")
            lines.append("ERRORS AND SLOW REQUESTS (latest first)")
            for r in timedOut { lines.append(pad("timeouts", 10) + pad("\(r.method) \(r.path)", 24) + RequestLog.describe(r.timeouts ?? [])) }
            for n in notable.prefix(20) { lines.append(pad(n.kind.rawValue, 10) + pad(n.route, 24) + n.text) }
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

    /// `s` left-aligned in a cell of `n` columns, cut to fit (`Units.padRight` never cuts).
    static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? String(s.prefix(n - 1)) + " " : s + String(repeating: " ", count: n - s.count) }
}
