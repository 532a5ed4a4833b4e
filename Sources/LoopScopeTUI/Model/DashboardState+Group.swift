import LoopScopeWire

extension DashboardState {
    /// A state that follows the workers of group `id` (`attach --group`). `staleAfter` (seconds)
    /// is how long a connected worker may send nothing before it counts as not answering.
    public init(group id: String, size: Int, refreshHz: Int = 10, staleAfter: Double, now: Double) {
        self.init(target: id, refreshHz: refreshHz)
        self.now = now
        group = GroupState(id: id, size: size, staleAfter: staleAfter, now: now)
    }

    /// Worker `index` connected (a new process in its slot, or the same one again).
    public mutating func workerConnected(_ index: Int, pid: Int32, readOnly: Bool, now: Double) {
        guard var g = group, g.workers.indices.contains(index) else { return }
        self.now = now
        g.workers[index].pid = pid
        g.workers[index].readOnly = readOnly
        g.workers[index].link = .live
        g.workers[index].since = now
        group = g
        self.readOnly = g.workers.contains { $0.readOnly }
        refreshGroup()
    }

    /// A frame from worker `index`. The shown snapshot is rebuilt at the next tick, at most
    /// once per tick however many workers sent frames.
    public mutating func receive(worker index: Int, _ s: Snapshot, dropped: UInt64, now: Double) {
        guard var g = group, g.workers.indices.contains(index) else { return }
        self.now = now
        g.workers[index].snapshot = s
        g.workers[index].pid = s.server.pid
        g.workers[index].dropped = dropped
        g.workers[index].lastFrame = now
        if g.workers[index].link != .live {
            g.workers[index].link = .live
            g.workers[index].since = now
        }
        group = g
    }

    /// Worker `index`'s connection ended; `processRuns` says whether its process still runs
    /// (it stopped answering) or exited. Its last snapshot stays for its own view.
    public mutating func workerDisconnected(_ index: Int, reason: String, processRuns: Bool = false, now: Double) {
        guard var g = group, g.workers.indices.contains(index) else { return }
        self.now = now
        if g.workers[index].link == .live { g.workers[index].since = now }
        g.workers[index].link = processRuns ? .unresponsive(reason: reason) : .lost(reason: reason)
        group = g
        refreshGroup()
    }

    /// Rebuilds what the group view shows when a worker's frames or health changed since the
    /// last time: the merge of every answering worker, or the viewed worker's own snapshot.
    mutating func refreshGroup() {
        guard var g = group else { return }
        let answering = g.answering(now: now)
        let from: [Int: UInt64]
        switch g.view {
        case .all: from = Dictionary(uniqueKeysWithValues: answering.map { ($0.worker, $0.snapshot.sequence) })
        case .worker(let i): from = [i: g.workers[i].snapshot?.sequence ?? 0]
        }
        let changed = from != g.shownFrom || g.shownView != g.view
        g.shownFrom = from
        g.shownView = g.view
        framesDropped = g.workers.reduce(0) { $0 + $1.dropped }
        group = g
        if !answering.isEmpty {
            connection = .live
        } else if g.workers.contains(where: { $0.lastFrame != nil }) {
            let reasons = g.workers.compactMap { w -> String? in
                switch w.link {
                case .lost(let r), .unresponsive(let r): return "\(GroupMerge.label(w.index)): \(r)"
                case .connecting, .live: return nil
                }
            }
            connection = .reconnecting(reason: "no worker of \(g.id) answers" + (reasons.isEmpty ? "" : " (\(reasons.joined(separator: "; ")))"), retryAt: now)
        }
        guard changed else { return }
        switch g.view {
        // With no worker answering, the last data stays.
        case .all: if !answering.isEmpty { latest = GroupMerge.merge(answering, group: g.id) }
        case .worker(let i): latest = g.workers[i].snapshot
        }
        if !paused || snapshot == nil { snapshot = latest }
    }

    /// `v`: the whole group, then each worker in turn, then the whole group again.
    mutating func cycleGroupView() {
        guard var g = group else {
            status = StatusMessage(text: "not a group: attach with --group to see its workers", isError: true, time: now)
            return
        }
        switch g.view {
        case .all: g.view = .worker(0)
        case .worker(let i): g.view = i + 1 < g.workers.count ? .worker(i + 1) : .all
        }
        group = g
        selectedDiagnosis = 0
        let wasPaused = paused
        paused = false
        refreshGroup()
        paused = wasPaused
    }

    /// The commands that apply `make` to the workers of the current view (what each worker's
    /// own snapshot says), with where they go said in the label; none when no worker answers.
    func groupCommands(_ label: String, _ make: (Snapshot) -> Command?) -> (commands: [Int: Command], label: String)? {
        guard let g = group else { return nil }
        var commands: [Int: Command] = [:]
        for i in g.commandTargets(now: now) {
            if let s = g.workers[i].snapshot, let c = make(s) { commands[i] = c }
        }
        let scope: String
        switch g.view {
        case .all: scope = commands.count == g.workers.count ? "on every worker" : "on " + commands.keys.sorted().map(GroupMerge.label).joined(separator: ", ")
        case .worker(let i): scope = "on \(GroupMerge.label(i))"
        }
        return (commands, "\(label) \(scope)")
    }
}
