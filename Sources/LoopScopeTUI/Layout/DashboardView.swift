import LoopScopeWire

/// Renders the dashboard state into a screen buffer. Pure: no I/O, no clocks (time comes from the state).
public struct DashboardView {
    public static let minimumColumns = 78
    public static let minimumRows = 18

    public let glyphs: Glyphs

    public init(glyphs: Glyphs) {
        self.glyphs = glyphs
    }

    public func render(_ state: DashboardState, rows: Int, columns: Int) -> ScreenBuffer {
        var b = ScreenBuffer(rows: rows, columns: columns)
        guard rows >= Self.minimumRows, columns >= Self.minimumColumns else {
            tooSmall(&b)
            return b
        }
        header(&b, state)
        // A group's workers line sits under the header on every screen.
        var top = 1
        if let g = state.group {
            GroupWorkersLine().render(&b, g, row: top, now: state.now)
            top += 1
        }
        switch state.screen {
        case .main, .help:
            main(&b, state, top: top)
            if state.screen == .help { help(&b) }
        case .detail:
            RouteDetailView().render(&b, state, top: top, bottom: rows - 2)
        case .workers:
            workers(&b, state, top: top)
        case .stallSites:
            StallSitesView().render(&b, state, top: top, bottom: rows - 2)
        }
        statusLine(&b, state)
        keysLine(&b, state)
        if glyphs == .ascii { b.asciify() }
        return b
    }

    // MARK: - Frame

    private func tooSmall(_ b: inout ScreenBuffer) {
        let lines = ["terminal too small: \(b.columns)×\(b.rows)", "loopscope needs at least \(Self.minimumColumns)×\(Self.minimumRows)", "enlarge the window, or press q to quit"]
        let top = max(0, b.rows / 2 - 1)
        for (i, l) in lines.enumerated() {
            b.write(top + i, max(0, (b.columns - l.count) / 2), l, i == 0 ? .warn : .plain)
        }
    }

    private func header(_ b: inout ScreenBuffer, _ st: DashboardState) {
        let (right, style) = connectionLabel(st)
        var left = " loopscope"
        if let s = st.snapshot {
            // A group's merged rows list each worker's cooperative pool beside its loops.
            var loops = s.loops.count
            if let g = st.group, g.view == .all { loops = g.answering(now: st.now).reduce(0) { $0 + $1.snapshot.loops.count } }
            // Most important first; each part is added only if it fits.
            var parts = [st.group?.viewLabel ?? "\(s.server.name) pid \(s.server.pid)", "up \(Units.uptime(s.server.uptimeSeconds))", "\(Units.rate(s.totalRate)) req/s",
                         "\(loops) loop\(loops == 1 ? "" : "s")", s.server.address]
            if let c = s.connections {
                // Open connections, and how many the server closed itself (timeouts, limits).
                let closed = c.closed.reduce(0) { $0 + $1.count }
                parts.append("\(c.open) conn" + (closed > 0 ? " (\(closed) closed)" : ""))
            }
            let order = [0, 4, 1, 3, 2, 5]
            var chosen: [Int] = []
            var length = left.count
            for (i, p) in parts.enumerated() where length + 2 + p.count <= b.columns - right.count - 2 {
                chosen.append(i)
                length += 2 + p.count
            }
            left += chosen.sorted { order.firstIndex(of: $0)! < order.firstIndex(of: $1)! }.map { "  " + parts[$0] }.joined()
        } else {
            left += "  " + (st.group?.viewLabel ?? st.target)
        }
        b.fill(0, .init(reverse: true))
        b.write(0, 0, left, Style(reverse: true, dim: false), width: b.columns - right.count - 1)
        b.write(0, b.columns - right.count - 1, right, Style(style.color, bold: true, reverse: true))
    }

    func connectionLabel(_ st: DashboardState) -> (String, Style) {
        let dropped = st.framesDropped > 0 ? "  dropped \(st.framesDropped)" : ""
        switch st.connection {
        case .connecting: return ("connecting…", .warn)
        case .live where st.paused: return ("❚❚ paused\(dropped)", .warn)
        case .live:
            if let g = st.group {
                let up = g.workers.filter { g.health($0, now: st.now).isUp }.count
                if up < g.workers.count { return ("● \(up)/\(g.workers.count) live \(st.refreshHz) Hz\(dropped)", .warn) }
            }
            return ("● live \(st.refreshHz) Hz\(dropped)", .good)
        case .reconnecting where st.group != nil: return ("no worker answers", .bad)
        case .reconnecting(_, let at):
            return ("server gone: reconnecting in \(max(0, Int((at - st.now).rounded(.up))))s", .bad)
        case .replaying:
            let r = st.replay
            let pos = "\((r?.index ?? 0) + 1)/\(r?.frames.count ?? 0)"
            return ("replay \(pos) \(Units.fixed1(r?.speed ?? 1))×\(r?.playing == false ? " paused" : "")", Style(.cyan))
        }
    }

    private func statusLine(_ b: inout ScreenBuffer, _ st: DashboardState) {
        let row = b.rows - 2
        if let p = st.prompt {
            var what = p.kind == .size ? "new size for \(p.pool)" : "queue limit for \(p.pool)"
            if let g = st.group { what += g.view == .all ? " on each worker" : " on \(g.viewLabel)" }
            b.write(row, 0, " \(what): \(p.text)_   (Enter to apply, Esc to cancel)", .warn)
            return
        }
        if case .reconnecting(let reason, _) = st.connection {
            b.write(row, 0, " ✖ \(reason) (last data kept)", .bad)
            return
        }
        if let s = st.status {
            b.write(row, 0, " " + s.text, s.isError ? .bad : .good)
        }
    }

    private func keysLine(_ b: inout ScreenBuffer, _ st: DashboardState) {
        b.write(b.rows - 1, 0, KeyMap.hints(st.hintContext, glyphs, width: b.columns), .muted)
    }

    // MARK: - Main screen

    private func main(_ b: inout ScreenBuffer, _ st: DashboardState, top: Int) {
        guard let s = st.snapshot else {
            b.write(top + 2, 2, st.connection == .live ? "waiting for the first snapshot…" : "no data yet: \(st.target)", .muted)
            if case .reconnecting(let reason, _) = st.connection { b.write(top + 4, 2, reason, .bad) }
            return
        }
        let w = b.columns
        var row = top
        // Event loops and the cooperative pool.
        let sparkW = max(8, w - 66)
        b.write(row, 0, " EVENT LOOPS  lag p99      max   cpu  stalls  culprit          " + Columns.left("lag max, last 60 s", sparkW), .heading)
        row += 1
        // A group lists every worker's loops: when they are more than a third of the screen,
        // the laggiest are shown, in their order, and the rest counted.
        let executors = s.loops + [s.tasks]
        let room = max(3, (b.rows - top) / 3)
        var shown = Array(executors.indices)
        if executors.count > room {
            shown = executors.indices.sorted { (executors[$0].lag.last10s.p99, -$0) > (executors[$1].lag.last10s.p99, -$1) }.prefix(room - 1).sorted()
        }
        for i in shown {
            loopRow(&b, row, executors[i], sparkW: sparkW)
            row += 1
        }
        if shown.count < executors.count {
            b.write(row, 2, "+\(executors.count - shown.count) quieter executors not shown", .muted)
            row += 1
        }
        // Pools.
        let poolSpark = max(8, w - 70)
        let poolFocus = st.focus == .pools
        b.write(row, 0, " POOLS      size busy queue  limit  wait p99  done/s rejected  " + Columns.left("queue, last 60 s", poolSpark), poolFocus ? Style(.cyan, bold: true, reverse: false) : .heading)
        row += 1
        for p in s.pools {
            let selected = p.name == st.currentPool?.name
            poolRow(&b, row, p, selected: selected, focused: poolFocus, sparkW: poolSpark)
            row += 1
        }
        // The demo's guide (wrapped) and up to three diagnoses take rows at the bottom.
        let guide = st.guide.flatMap { Self.wrap($0, width: w - 2) }
        let guideRows = min(guide.count, 3)
        let diagRows = min(3 - min(guideRows, 1), s.diagnoses.count)
        let routesBottom = b.rows - 2 - diagRows - guideRows
        for (i, line) in guide.prefix(guideRows).enumerated() {
            b.fill(b.rows - 2 - guideRows + i, Style(.highlight))
            b.write(b.rows - 2 - guideRows + i, 0, " " + line, Style(.highlight, bold: i == 0), width: w)
        }
        // Routes.
        let routeFocus = st.focus == .routes
        // Request measures with a header get a column each when the paths keep 30 columns.
        let measureColumns = RequestMeasure.allCases.filter { $0.about.header != nil }
        let measures = w - 68 - Self.measureWidth * measureColumns.count >= 30 ? measureColumns : []
        let pathW = max(10, w - 68 - Self.measureWidth * measures.count)
        let sortMark: (RouteSort.Column) -> String = { c in st.sort.column == c ? (st.sort.descending ? "▼" : "▲") : " " }
        var head = " " + Columns.left("ROUTES" + sortMark(.route), pathW) + Columns.left("model" + sortMark(.model), 10)
        head += Columns.right("req/s" + sortMark(.rate), 7) + Columns.right("p50" + sortMark(.p50), 8) + Columns.right("p99" + sortMark(.p99), 8)
        head += Columns.right("max" + sortMark(.max), 8) + Columns.right("5xx" + sortMark(.errors), 6) + "  " + Columns.left("class" + sortMark(.workClass), 9) + Columns.right("held" + sortMark(.held), 9)
        for m in measures { head += Columns.right((m.about.header ?? "") + sortMark(.measure(m)), Self.measureWidth) }
        b.write(row, 0, head, routeFocus ? Style(.cyan, bold: true) : .heading)
        row += 1
        let routes = st.routes
        let visible = max(0, routesBottom - row)
        let selectedIndex = routes.firstIndex { $0.path == st.currentRoute?.path } ?? 0
        let first = max(0, min(selectedIndex - visible + 1, routes.count - visible))
        for (i, r) in routes.enumerated().dropFirst(first).prefix(visible) {
            routeRow(&b, row, r, pathW: pathW, measures: measures, selected: i == selectedIndex, focused: routeFocus)
            row += 1
        }
        if routes.count > visible, visible > 0 {
            b.write(row - 1, w - 12, Columns.right("+\(routes.count - visible) more", 11), .muted)
        }
        // Diagnoses.
        var drow = routesBottom
        for (i, d) in s.diagnoses.prefix(diagRows).enumerated() {
            let selected = st.focus == .diagnoses && i == st.selectedDiagnosis
            let mark = selected ? ">" : "!"
            let fix = d.action.map { " [f: \($0.summary)]" } ?? ""
            let style = selected ? Style(Theme.severity(d.severity).color, bold: true, reverse: true) : Theme.severity(d.severity)
            b.write(drow, 0, " \(mark) " + Columns.left(d.summary, w - 3 - fix.count) + fix, style)
            drow += 1
        }
    }

    /// Splits text into lines of at most `width` characters at spaces.
    static func wrap(_ text: String, width: Int) -> [String] {
        guard width > 0, text.count > width else { return [text] }
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            if !line.isEmpty, line.count + 1 + word.count > width {
                lines.append(line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }

    private func loopRow(_ b: inout ScreenBuffer, _ row: Int, _ e: LoopFigures, sparkW: Int) {
        let l = e.lag.last10s
        var c = b.write(row, 0, "  " + Columns.left(e.name, 11))
        c = b.write(row, c, Columns.right(Units.micros(l.p99), 8), Theme.lag(l.p99))
        c = b.write(row, c, Columns.right(Units.micros(l.max), 9), Theme.lag(l.max))
        // Share of the last second its threads ran on a CPU; "-" until measured.
        c = b.write(row, c, Columns.right(Units.percent(e.cpu), 6), (e.cpu ?? 0) >= 0.8 ? .warn : .plain)
        c = b.write(row, c, Columns.right(String(e.stalls), 8))
        c = b.write(row, c, "  ")
        if let stall = e.stallInProgress {
            c = b.write(row, c, Columns.left("STALLED \(Units.micros(stall.heldMicros)) \(stall.route ?? "")", 17), Style(.alert, bold: true))
        } else {
            c = b.write(row, c, Columns.left(e.culprit ?? "", 17), Style(.yellow))
        }
        let spark = Sparkline.render(e.lagHistory, width: sparkW, maximum: Double(max(e.lagHistory.max() ?? 0, 2_000)))
        b.write(row, c, spark, Theme.lag(e.lagHistory.last ?? 0))
    }

    private func poolRow(_ b: inout ScreenBuffer, _ row: Int, _ p: PoolFigures, selected: Bool, focused: Bool, sparkW: Int) {
        let mark = selected && focused ? ">" : " "
        var c = b.write(row, 0, mark + Columns.left(p.name, 10), selected && focused ? Style(bold: true) : .plain)
        c = b.write(row, c, Columns.right(String(p.size), 5))
        c = b.write(row, c, Columns.right(String(p.busy), 5), p.busy >= p.size && p.size > 0 ? .warn : .plain)
        c = b.write(row, c, Columns.right(String(p.queued), 6), p.queued > 0 ? .warn : .plain)
        c = b.write(row, c, Columns.right(String(p.queueLimit), 7))
        c = b.write(row, c, Columns.right(Units.micros(p.queueWait.last10s.p99), 10), Theme.lag(p.queueWait.last10s.p99))
        c = b.write(row, c, Columns.right(Units.rate(p.completedPerSecond), 8))
        c = b.write(row, c, Columns.right(String(p.rejected), 9), p.rejected > 0 ? .bad : .plain)
        c = b.write(row, c, "  ")
        b.write(row, c, Sparkline.render(p.queueHistory, width: sparkW, maximum: Double(max(p.queueHistory.max() ?? 0, 1))), p.queued > 0 ? .warn : .good)
        if selected && focused { b.restyle(row, from: 0, to: 11, Style(bold: true, reverse: true)) }
    }

    /// The width of a request measure's column in the route table.
    static let measureWidth = 9

    private func routeRow(_ b: inout ScreenBuffer, _ row: Int, _ r: RouteFigures, pathW: Int, measures: [RequestMeasure], selected: Bool, focused: Bool) {
        let l = r.latency.last10s
        let mark = selected ? ">" : " "
        // One column always left blank before the model, however long the path.
        var c = b.write(row, 0, mark + Columns.left(r.path, pathW - 1) + " ", selected ? Style(bold: true) : .plain)
        c = b.write(row, c, Columns.left(r.model.rawValue, 10), Theme.model(r.model))
        c = b.write(row, c, Columns.right(Units.rate(r.rate10s), 7))
        c = b.write(row, c, Columns.right(Units.micros(l.p50), 8))
        c = b.write(row, c, Columns.right(Units.micros(l.p99), 8), Theme.lag(l.p99 / 4))
        c = b.write(row, c, Columns.right(Units.micros(l.max), 8))
        c = b.write(row, c, Columns.right(String(r.status.s5xx), 6), r.status.s5xx > 0 ? .bad : .plain)
        c = b.write(row, c, "  ")
        c = b.write(row, c, Columns.left(r.workClass == .unknown ? "-" : r.workClass.rawValue, 9), Theme.workClass(r.workClass))
        c = b.write(row, c, Columns.right(Units.micros(r.held.perRequestMicros), 9), r.held.perRequestMicros >= 1000 ? .bad : .plain)
        for m in measures {
            let v = r.perRequest[m]
            c = b.write(row, c, Columns.right(v > 0 ? m.about.unit.text(v) : "-", Self.measureWidth))
        }
        if selected && focused { b.restyle(row, from: 0, to: 1 + pathW, Style(bold: true, reverse: true)) }
    }

    // MARK: - Other screens

    private func workers(_ b: inout ScreenBuffer, _ st: DashboardState, top: Int) {
        guard let pool = st.workersPool else {
            b.write(top + 1, 2, "no process pool", .muted)
            return
        }
        b.write(top, 0, " WORKERS of \(pool.name): size \(pool.size), live \(pool.live), busy \(pool.busy), queued \(pool.queued), failed \(pool.failed)", .heading)
        b.write(top + 1, 0, "   pid        state   jobs done   restarts   resident", .heading)
        for (i, w) in pool.workers.enumerated() where top + 2 + i < b.rows - 2 {
            let line = "   " + Columns.left(String(w.pid), 11) + Columns.left(w.busy ? "busy" : "idle", 8) + Columns.right(String(w.jobsDone), 9)
                + Columns.right(String(w.restarts), 11) + Columns.right(Units.bytes(w.residentBytes), 11)
            b.write(top + 2 + i, 0, line, w.busy ? .warn : .plain)
        }
    }

    private func help(_ b: inout ScreenBuffer) {
        let entries = KeyMap.help(glyphs)
        let keysWidth = (entries.map(\.keys.count).max() ?? 0) + 2
        let lines = entries.map { Columns.left($0.keys, keysWidth) + $0.text }
        let width = min(b.columns - 4, (lines.map(\.count).max() ?? 40) + 4)
        let height = min(b.rows - 4, lines.count + 4)
        let top = max(1, (b.rows - height) / 2)
        let left = max(0, (b.columns - width) / 2)
        for r in top..<(top + height) { b.fill(r, from: left, to: left + width, .plain) }
        b.write(top, left, "┌" + String(repeating: "─", count: width - 2) + "┐", .heading)
        b.write(top + height - 1, left, "└" + String(repeating: "─", count: width - 2) + "┘", .heading)
        for r in (top + 1)..<(top + height - 1) {
            b.write(r, left, "│", .heading)
            b.write(r, left + width - 1, "│", .heading)
        }
        b.write(top, left + 2, " keys ", .heading)
        // Rows inside the frame below a blank one; when they are too few, the last says so.
        let room = height - 3
        let clipped = lines.count > room
        for (i, l) in lines.prefix(clipped ? room - 1 : room).enumerated() {
            b.write(top + 2 + i, left + 2, l, width: width - 4)
        }
        if clipped { b.write(top + 1 + room, left + 2, "… \(lines.count - room + 1) more lines: enlarge the window", .muted, width: width - 4) }
        b.write(top + height - 1, left + 2, " any key closes ", .muted)
    }
}
