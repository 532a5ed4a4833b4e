import LoopScopeWire

/// The line under the header of a group's dashboard: every worker and how it stands
/// (`w0 pid 4243 up  w1 restarting (no answer 2 s)`), the one on screen highlighted. A worker
/// that does not answer is always listed, never dropped. Pure.
struct GroupWorkersLine {
    static let heading = " GROUP "

    func render(_ b: inout ScreenBuffer, _ g: GroupState, row: Int, now: Double) {
        var c = b.write(row, 0, Self.heading, .heading)
        // Answering workers without their pids when the full line does not fit.
        let full = g.workers.map { g.describe($0, now: now) }
        let texts = Self.heading.count + full.reduce(0) { $0 + $1.count + 2 } <= b.columns ? full : g.workers.map { g.describe($0, now: now, short: true) }
        for (w, text) in zip(g.workers, texts) {
            c = b.write(row, c, text, Theme.worker(g.health(w, now: now), viewed: g.view == .worker(w.index)), width: max(0, b.columns - c))
            c = b.write(row, c, "  ")
        }
    }
}
