import LoopScopeWire

/// Something the dashboard asks its runner to do: the reducer decides, the runner does the I/O.
public enum Effect: Equatable, Sendable {
    /// Send a command; `label` names it in the status line.
    case send(Command, label: String)
    /// Send each worker of the group its command (`label` says to which).
    case sendToWorkers([Int: Command], label: String)
    /// Have each worker of the group stream every so many milliseconds.
    case streamIntervals([Int: Int])
    /// Write this snapshot to a file.
    case dump(Snapshot)
    case quit
}

extension DashboardState {
    /// A snapshot frame arrived.
    public mutating func receive(_ s: Snapshot, dropped: UInt64, now: Double) {
        self.now = now
        latest = s
        framesDropped = dropped
        if connection != .live { connection = .live }
        if !paused { snapshot = s }
    }

    public mutating func connected(readOnly: Bool, now: Double) {
        self.now = now
        self.readOnly = readOnly
        connection = .live
    }

    /// The connection dropped; the last data stays on screen.
    public mutating func disconnected(reason: String, retryInMillis: Int, now: Double) {
        self.now = now
        connection = .reconnecting(reason: reason, retryAt: now + Double(retryInMillis) / 1000)
    }

    /// A command finished: its outcome goes to the status line.
    public mutating func commandFinished(_ label: String, error: String?, message: String?, now: Double) {
        self.now = now
        if let error {
            status = StatusMessage(text: "\(label) failed: \(error)", isError: true, time: now)
        } else {
            status = StatusMessage(text: message ?? "\(label): ok", isError: false, time: now)
        }
    }

    /// Time passes: replays advance.
    public mutating func tick(now: Double) {
        self.now = now
        if group != nil { refreshGroup() }
        guard var r = replay, r.playing, r.index + 1 < r.frames.count else { return }
        let gap = max(0.05, r.frames[r.index + 1].time - r.frames[r.index].time)
        if r.lastAdvance == 0 { r.lastAdvance = now }
        if now - r.lastAdvance >= gap / r.speed {
            r.index += 1
            r.lastAdvance = now
            snapshot = r.frames[r.index]
            latest = snapshot
        }
        replay = r
    }

    /// Handles a key and returns what the runner must do.
    public mutating func handle(_ key: Key, now: Double) -> [Effect] {
        self.now = now
        if prompt != nil { return handlePrompt(key) }
        if key == .resize { return [] }
        if screen == .help {
            screen = .main
            return key == .character("q") ? [.quit] : []
        }
        guard let intent = KeyMap.intent(key) else { return [] }
        switch intent {
        case .quit: return [.quit]
        case .help: screen = .help
        case .back: screen = .main
        case .detail:
            if focus == .pools, currentPool?.kind.listsWorkers == true { screen = .workers } else { screen = screen == .detail ? .main : .detail }
        case .workers: screen = screen == .workers ? .main : .workers
        case .stallSites: screen = screen == .stallSites ? .main : .stallSites
        case .nextView:
            cycleGroupView()
            if let g = group { return [.streamIntervals(GroupState.streamIntervals(view: g.view, workers: g.workers.count, refreshHz: refreshHz))] }
        case .nextFocus, .previousFocus:
            let all = Focus.allCases
            let i = all.firstIndex(of: focus)!
            focus = all[(i + (intent == .nextFocus ? 1 : all.count - 1)) % all.count]
        case .up, .down, .pageUp, .pageDown, .top, .bottom:
            if replay != nil, intent == .top || intent == .bottom { seek(toEnd: intent == .bottom); return [] }
            move(intent)
        case .sortNext, .sortInvert:
            if intent == .sortNext { sort.next() } else { sort.descending.toggle() }
            // The heading marks a shown column; the line also names one a narrow terminal hides.
            status = StatusMessage(text: sort.described, isError: false, time: now)
        case .pause:
            if var r = replay {
                r.playing.toggle()
                r.lastAdvance = now
                replay = r
                status = StatusMessage(text: r.playing ? "replay playing at \(Units.fixed1(r.speed))×" : "replay paused", isError: false, time: now)
            } else {
                paused.toggle()
                if !paused { snapshot = latest }
            }
        case .dump:
            if let s = snapshot { return [.dump(s)] }
            status = StatusMessage(text: "nothing to dump yet", isError: true, time: now)
        case .stepBack, .stepForward:
            step(intent == .stepForward ? 1 : -1)
        case .slower, .faster:
            guard var r = replay else { return [] }
            r.speed = min(16, max(0.25, intent == .faster ? r.speed * 2 : r.speed / 2))
            replay = r
            status = StatusMessage(text: "replay speed \(Units.fixed1(r.speed))×", isError: false, time: now)
        case .setModel(let model):
            return routeCommand { .route(method: $0.method, path: $0.path, model: model) }
        case .cycleModel:
            return routeCommand { r in
                let all = ExecutionModel.allCases
                return .route(method: r.method, path: r.path, model: all[(all.firstIndex(of: r.model)! + 1) % all.count])
            }
        case .grow, .shrink:
            guard let pool = currentPool else { return [] }
            if group != nil {
                // Each worker's own pool grows or shrinks by one (the group's row is their sum).
                let delta = intent == .grow ? 1 : -1
                return groupCommand("resize \(pool.name) by \(delta > 0 ? "+1" : "-1")") { s in
                    s.pool(pool.name).flatMap { $0.size + delta >= 1 ? .resize(pool: pool.name, size: $0.size + delta) : nil }
                }
            }
            let size = pool.size + (intent == .grow ? 1 : -1)
            guard size >= 1 else {
                status = StatusMessage(text: "\(pool.name) is at its smallest size (1)", isError: true, time: now)
                return []
            }
            return command(.resize(pool: pool.name, size: size), label: "resize \(pool.name) to \(size)")
        case .typeSize, .typeLimit:
            guard let pool = currentPool else { return [] }
            if let why = commandsBlocked(intent == .typeSize ? "resize" : "limit") {
                status = StatusMessage(text: why, isError: true, time: now)
                return []
            }
            prompt = Prompt(kind: intent == .typeSize ? .size : .limit, pool: pool.name, text: "")
        case .fix:
            guard let d = currentDiagnosis else {
                status = StatusMessage(text: "no diagnosis to fix", isError: false, time: now)
                return []
            }
            guard d.action != nil else {
                status = StatusMessage(text: "\(d.id) has no automatic fix", isError: true, time: now)
                return []
            }
            if group != nil {
                // To the workers that have the diagnosis.
                return groupCommand("fix \(d.id)") { s in s.diagnoses.contains { $0.id == d.id } ? .fix(diagnosis: d.id) : nil }
            }
            return command(.fix(diagnosis: d.id), label: "fix \(d.id)")
        }
        return []
    }

    private mutating func handlePrompt(_ key: Key) -> [Effect] {
        guard var p = prompt else { return [] }
        switch key {
        case .escape, .control("c"):
            prompt = nil
        case .backspace:
            if !p.text.isEmpty { p.text.removeLast() }
            prompt = p
        case .enter:
            prompt = nil
            guard let n = Int(p.text) else {
                status = StatusMessage(text: "'\(p.text)' is not a number", isError: true, time: now)
                return []
            }
            switch p.kind {
            case .size: return command(.resize(pool: p.pool, size: n), label: "resize \(p.pool) to \(n)")
            case .limit: return command(.limit(pool: p.pool, limit: n), label: "limit \(p.pool) to \(n)")
            }
        case .character(let c) where c.isNumber || (c == "-" && p.text.isEmpty):
            if p.text.count < 9 { p.text.append(c) }
            prompt = p
        default:
            break
        }
        return []
    }

    private mutating func routeCommand(_ make: (RouteFigures) -> Command) -> [Effect] {
        guard let r = currentRoute else { return [] }
        let c = make(r)
        if case .route(_, let path, let model) = c { return command(c, label: "move \(path) to \(model.rawValue)") }
        return []
    }

    /// Why commands cannot be sent now, if they cannot.
    func commandsBlocked(_ label: String) -> String? {
        if replay != nil { return "replaying a recording: commands are disabled" }
        if readOnly { return "read-only connection: commands are disabled" }
        if connection != .live { return "not connected: \(label) not sent" }
        return nil
    }

    private mutating func command(_ c: Command, label: String) -> [Effect] {
        if group != nil { return groupCommand(label) { _ in c } }
        if let why = commandsBlocked(label) {
            status = StatusMessage(text: why, isError: true, time: now)
            return []
        }
        status = StatusMessage(text: "\(label)…", isError: false, time: now)
        return [.send(c, label: label)]
    }

    /// A command to the workers of the group's current view, each made from its own snapshot.
    private mutating func groupCommand(_ label: String, _ make: (Snapshot) -> Command?) -> [Effect] {
        if let why = commandsBlocked(label) {
            status = StatusMessage(text: why, isError: true, time: now)
            return []
        }
        guard let (commands, scoped) = groupCommands(label, make), !commands.isEmpty else {
            let who: String
            if case .worker(let i) = group?.view { who = "\(GroupMerge.label(i)) is not answering" } else { who = "no worker answers" }
            status = StatusMessage(text: "\(who): \(label) not sent", isError: true, time: now)
            return []
        }
        status = StatusMessage(text: "\(scoped)…", isError: false, time: now)
        return [.sendToWorkers(commands, label: scoped)]
    }

    private mutating func move(_ intent: Intent) {
        let delta: Int
        switch intent {
        case .up: delta = -1
        case .down: delta = 1
        case .pageUp: delta = -10
        case .pageDown: delta = 10
        case .top: delta = -10_000
        default: delta = 10_000
        }
        switch focus {
        case .routes:
            let r = routes
            guard !r.isEmpty else { return }
            let i = r.firstIndex { $0.path == currentRoute?.path } ?? 0
            selectedRoute = r[max(0, min(r.count - 1, i + delta))].path
        case .pools:
            let p = pools
            guard !p.isEmpty else { return }
            let i = p.firstIndex { $0.name == currentPool?.name } ?? 0
            selectedPool = p[max(0, min(p.count - 1, i + delta))].name
        case .diagnoses:
            selectedDiagnosis = max(0, min(max(diagnoses.count - 1, 0), selectedDiagnosis + delta))
        }
    }

    private mutating func step(_ delta: Int) {
        guard var r = replay, !r.frames.isEmpty else { return }
        r.playing = false
        r.index = max(0, min(r.frames.count - 1, r.index + delta))
        snapshot = r.frames[r.index]
        latest = snapshot
        replay = r
    }

    private mutating func seek(toEnd: Bool) {
        guard var r = replay, !r.frames.isEmpty else { return }
        r.index = toEnd ? r.frames.count - 1 : 0
        r.lastAdvance = now
        snapshot = r.frames[r.index]
        latest = snapshot
        replay = r
    }
}
