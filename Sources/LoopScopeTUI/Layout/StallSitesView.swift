import LoopScopeWire

/// The stall sites screen (`t`): for each event loop and the cooperative pool, where its
/// threads were while it was stalled — the innermost application function of a sampled stack,
/// or the system call of a blocked thread — most stalled time over the last 60 s first. Pure.
struct StallSitesView {
    /// Column widths; the function takes what is left (27 at 80 columns).
    static let indent = 2
    static let executorWidth = 9
    static let stalledWidth = 8
    static let stallsWidth = 7
    static let maxWidth = 8
    static let routeWidth = 11
    static let seenWidth = 8
    /// Stands between a frame and the one that called it.
    static let caller = "←"

    func render(_ b: inout ScreenBuffer, _ st: DashboardState, top: Int, bottom: Int) {
        guard let s = st.snapshot else {
            b.write(top + 1, 2, "no data yet", .muted)
            return
        }
        var row = top
        b.write(row, 0, " STALL SITES  where stalled loops' and pool threads' stacks were", .heading, width: b.columns)
        row += 1
        let fnW = functionWidth(b.columns, showRoute: true)
        let head = String(repeating: " ", count: Self.indent) + Columns.left("executor", Self.executorWidth) + Columns.left("function", fnW) + Columns.right("60 s", Self.stalledWidth)
            + Columns.right("stalls", Self.stallsWidth) + Columns.right("max", Self.maxWidth) + "  " + Columns.left("route", Self.routeWidth - 2) + Columns.right("seen", Self.seenWidth)
        b.write(row, 0, head, .muted)
        row += 1
        let all = (s.loops + [s.tasks]).flatMap { e in e.stallSites.map { (e.name, $0) } }
        guard !all.isEmpty else {
            let text = "No stall yet. While a loop or the cooperative pool stays busy past the stall threshold (10 ms unless changed), the server samples its threads' stacks every few milliseconds; the functions that held them show up here, most stalled first."
            for (i, line) in DashboardView.wrap(text, width: b.columns - 4).enumerated() where row + 1 + i < bottom {
                b.write(row + 1 + i, 2, line, .muted)
            }
            return
        }
        let capacity = max(0, (bottom - row) / 2)
        for (executor, site) in all.prefix(capacity) {
            siteRows(&b, row, executor: executor, site: site, now: s.time, showRoute: true)
            row += 2
        }
        let omitted = all.count - min(all.count, capacity) + Int((s.loops + [s.tasks]).reduce(0) { $0 + $1.stallSitesOmitted })
        if omitted > 0, row < bottom { b.write(row, 2, "+\(omitted) more sites", .muted) }
    }

    private func functionWidth(_ columns: Int, showRoute: Bool) -> Int {
        max(12, columns - Self.indent - Self.executorWidth - Self.stalledWidth - Self.stallsWidth - Self.maxWidth - (showRoute ? Self.routeWidth : 0) - Self.seenWidth)
    }

    /// One row for a route's detail: where the route's work most stalled an executor.
    func summaryRow(_ b: inout ScreenBuffer, _ row: Int, executor: String, site: StallSite) {
        var c = b.write(row, 1, "stalled \(executor) in ")
        c = b.write(row, c, site.function, site.state == .blocked ? Style(.magenta, bold: true) : Style(.yellow, bold: true))
        let below = site.frames.dropFirst().prefix(2).map { " \(Self.caller) \($0)" }.joined()
        b.write(row, c, "  \(Units.micros(site.last60s.micros, empty: "0")) in \(site.last60s.stalls) stalls, 60 s\(below)", .muted, width: b.columns - c)
    }

    /// Two rows for one site: its figures, then the frames that led to it (or the system call).
    func siteRows(_ b: inout ScreenBuffer, _ row: Int, executor: String, site: StallSite, now: Double, showRoute: Bool) {
        let fnW = functionWidth(b.columns, showRoute: showRoute)
        var c = b.write(row, 0, String(repeating: " ", count: Self.indent) + Columns.left(executor, Self.executorWidth))
        c = b.write(row, c, Columns.left(site.function, fnW), site.state == .blocked ? Style(.magenta, bold: true) : Style(.yellow, bold: true))
        c = b.write(row, c, Columns.right(Units.micros(site.last60s.micros, empty: "0"), Self.stalledWidth), Theme.lag(site.last60s.micros / max(site.last60s.stalls, 1)))
        c = b.write(row, c, Columns.right(String(site.last60s.stalls), Self.stallsWidth))
        c = b.write(row, c, Columns.right(Units.micros(site.maxMicros), Self.maxWidth))
        if showRoute { c = b.write(row, c, "  " + Columns.left(site.route ?? "", Self.routeWidth - 2)) }
        b.write(row, c, Columns.right(Self.age(now - site.lastSeen), Self.seenWidth), .muted)
        let detail: String
        if site.state == .blocked {
            detail = "asleep in \(site.syscall ?? "a system call"); named from /proc, never signalled"
        } else if !site.isApplicationCode {
            // No application frame: the innermost frames say what the executor was doing.
            detail = "in " + site.frames.joined(separator: " \(Self.caller) ")
        } else {
            detail = site.frames.dropFirst().map { "\(Self.caller) \($0)" }.joined(separator: " ")
        }
        let left = Self.indent + Self.executorWidth
        b.write(row + 1, left, detail.isEmpty ? "(no application frames below it)" : detail, .muted, width: b.columns - left)
    }

    static func age(_ seconds: Double) -> String {
        let s = max(0, Int(seconds.rounded()))
        return s < 60 ? "\(s)s ago" : s < 3600 ? "\(s / 60)m ago" : "\(s / 3600)h ago"
    }
}
