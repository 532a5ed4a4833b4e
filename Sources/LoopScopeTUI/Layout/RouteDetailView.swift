import LoopScopeWire

/// The detail screen of the selected route: percentiles, histogram, time split, 60 s history
/// with control actions marked where they happened. Pure.
struct RouteDetailView {
    /// Marks a second in which a control action happened.
    static let marker: Character = "│"

    func render(_ b: inout ScreenBuffer, _ st: DashboardState, top: Int, bottom: Int) {
        guard let s = st.snapshot, let r = st.currentRoute else {
            b.write(top + 1, 2, "no route selected", .muted)
            return
        }
        var row = top
        b.write(row, 0, " ROUTE \(r.method) \(r.path)", .heading)
        var c = b.write(row, 12 + r.path.count, "model ")
        c = b.write(row, c, r.model.rawValue, Theme.model(r.model))
        c = b.write(row, c, "  class ")
        c = b.write(row, c, r.workClass.rawValue, Theme.workClass(r.workClass))
        b.write(row, c, "  \(Units.rate(r.rate10s)) req/s  in flight \(r.inFlight)  requests \(Units.grouped(Int(r.requests)))  5xx \(r.status.s5xx)  4xx \(r.status.s4xx)")
        row += 2
        // Percentiles on the left, histogram on the right.
        let l = r.latency
        b.write(row, 1, "LATENCY      1 s      10 s", .heading)
        let hist = r.histogram.filter { $0.count > 0 }
        let histLeft = 30
        b.write(row, histLeft, "HISTOGRAM (since start)", .heading)
        let pct: [(String, UInt64, UInt64)] = [("p50", l.last1s.p50, l.last10s.p50), ("p90", l.last1s.p90, l.last10s.p90), ("p99", l.last1s.p99, l.last10s.p99),
                                               ("p99.9", l.last1s.p999, l.last10s.p999), ("max", l.last1s.max, l.last10s.max)]
        let maxCount = hist.map(\.count).max() ?? 1
        let barW = max(5, b.columns - histLeft - 12)
        for i in 0..<max(pct.count, min(hist.count, 8)) {
            if i < pct.count {
                let p = pct[i]
                b.write(row + 1 + i, 1, Columns.left(p.0, 8) + Columns.right(Units.micros(p.1), 8) + Columns.right(Units.micros(p.2), 10), Theme.lag(p.2 / 4))
            }
            if i < min(hist.count, 8) {
                let bucket = hist[hist.count > 8 ? hist.count - 8 + i : i]
                let n = Int((Double(bucket.count) / Double(maxCount) * Double(barW)).rounded(.up))
                b.write(row + 1 + i, histLeft, Columns.right("≤" + Units.micros(bucket.upToMicros), 8), .muted)
                b.write(row + 1 + i, histLeft + 9, String(repeating: "█", count: n), Style(.cyan))
            }
        }
        row += 2 + max(pct.count, min(hist.count, 8))
        // Where the time goes.
        let sp = r.split
        b.write(row, 1, "WHERE THE TIME GOES (mean per request, 10 s)", .heading)
        row += 1
        let legend = SplitBar.legend(sp)
        b.write(row, 1, "[" + SplitBar.render(sp, width: min(50, b.columns - 4)) + "]", Style(.yellow))
        row += 1
        b.write(row, 1, legend)
        row += 1
        let pools = s.pools.filter { $0.routes?.contains(r.path) == true }
        if !pools.isEmpty {
            b.write(row, 1, "waits for connections of " + pools.map { "\($0.name) (\($0.busy)/\($0.size) in use, \($0.queued) waiting, wait p99 \(Units.micros($0.queueWait.last10s.p99, empty: "0")))" }.joined(separator: ", "))
            row += 1
        }
        if let timeouts = r.timeouts {
            b.write(row, 1, "timeouts since start: " + RequestLog.describe(timeouts), Style.bad)
            row += 1
        }
        let async = r.held.asyncMicros > 0 ? " (\(Units.micros(r.held.asyncMicros)) in async code)" : ""
        let measured = r.perRequest.described
        if !measured.isEmpty {
            b.write(row, 1, "per request: " + measured.joined(separator: " · "))
            row += 1
        }
        b.write(row, 1, "compute: wall \(Units.micros(r.compute.wallMicros, empty: "0")), CPU \(Units.micros(r.compute.cpuMicros, empty: "0")); holds a loop/task thread \(Units.micros(r.held.perRequestMicros, empty: "0"))\(async) per request, \(r.held.count) holds over the threshold")
        row += 1
        // Where its work most stalled an executor (the full list: t).
        if let (executor, site) = s.stallSites(of: r.path).first {
            StallSitesView().summaryRow(&b, row, executor: executor, site: site)
        }
        row += 1
        guard row + 4 < bottom else { return }
        // History with markers.
        let width = min(60, b.columns - 16)
        let marks = markers(s, route: r.path, width: width)
        b.write(row, 1, "p99, 60 s", .heading)
        b.write(row, 12, Sparkline.render(r.p99History, width: width), Style(.yellow))
        b.write(row, 13 + width, Units.micros(r.p99History.last ?? 0))
        row += 1
        b.write(row, 12, marks.line, Style(.magenta, bold: true))
        row += 1
        b.write(row, 1, "req/s, 60 s", .heading)
        b.write(row, 12, Sparkline.render(r.rateHistory, width: width), .good)
        b.write(row, 13 + width, Units.rate(Double(r.rateHistory.last ?? 0)))
        row += 1
        // The latest errors and slow requests, newest first (`loopscope log` follows them).
        for line in Self.notable(r, now: s.time) where row < bottom {
            b.write(row, 1, line.text, line.style)
            row += 1
        }
        for e in marks.events.suffix(max(0, bottom - row)) {
            b.write(row, 1, "\(Self.marker) \(Int(s.time - e.time))s ago: \(e.summary) (\(e.actor))", Style(.magenta))
            row += 1
        }
    }

    /// One line per recent error and slow request of `r`, newest first.
    static func notable(_ r: RouteFigures, now: Double) -> [(text: String, style: Style)] {
        func ago(_ t: Double) -> String { Columns.left("\(max(0, Int((now - t).rounded())))s ago", 8) }
        return RequestLog.entries(of: r).map { e in
            (Columns.left(e.kind.rawValue, 6) + ago(e.time) + " " + e.text, e.kind == .error ? Style.bad : Style(.yellow))
        }
    }

    /// A row with a marker under each second in which an event about this route happened.
    func markers(_ s: Snapshot, route: String, width: Int) -> (line: String, events: [ControlEvent]) {
        var line = Array(repeating: Character(" "), count: width)
        var shown: [ControlEvent] = []
        for e in s.events where e.subject == route || (e.kind == .resize || e.kind == .limit) {
            let age = Int((s.time - e.time).rounded(.down))
            guard age >= 0, age < width else { continue }
            line[width - 1 - age] = Self.marker
            shown.append(e)
        }
        return (String(line), shown)
    }
}
