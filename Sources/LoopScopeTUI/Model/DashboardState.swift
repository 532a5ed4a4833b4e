import LoopScopeWire

/// Everything the dashboard shows and remembers. A plain value changed only by `DashboardState+Reduce`.
public struct DashboardState: Sendable {
    public enum Connection: Equatable, Sendable {
        case connecting(String)
        case live
        /// `retryAt` is in the same seconds as `now`.
        case reconnecting(reason: String, retryAt: Double)
        case replaying
    }

    public enum Focus: CaseIterable, Sendable { case routes, pools, diagnoses }

    public enum Screen: Equatable, Sendable { case main, detail, workers, stallSites, help }

    /// Typing a number for a pool.
    public struct Prompt: Equatable, Sendable {
        public enum Kind: Sendable { case size, limit }
        public var kind: Kind
        public var pool: String
        public var text: String
    }

    public struct StatusMessage: Equatable, Sendable {
        public var text: String
        public var isError: Bool
        public var time: Double
    }

    /// A recording being played.
    public struct Replay: Sendable {
        public var frames: [Snapshot]
        public var index = 0
        public var playing = true
        /// Frames advance at this multiple of their recorded pace.
        public var speed = 1.0
        public var lastAdvance = 0.0
    }

    /// The snapshot on screen (frozen while paused).
    public var snapshot: Snapshot?
    /// The newest snapshot received.
    public var latest: Snapshot?
    public var connection: Connection
    public var paused = false
    public var focus: Focus = .routes
    public var selectedRoute: String?
    public var selectedPool: String?
    public var selectedDiagnosis = 0
    public var sort = RouteSort()
    public var screen: Screen = .main
    public var prompt: Prompt?
    public var status: StatusMessage?
    public var refreshHz: Int
    public var framesDropped: UInt64 = 0
    public var readOnly = false
    public var replay: Replay?
    public var target: String
    /// The workers of a group (`attach --group`); nil for one server.
    public var group: GroupState?
    /// Lines of guidance shown above the status line (the demo's current phase); empty for none.
    public var guide: [String] = []
    /// Seconds (any epoch) as of the last event; used for ages and countdowns.
    public var now: Double = 0

    public init(target: String, refreshHz: Int = 10) {
        self.target = target
        self.refreshHz = refreshHz
        self.connection = .connecting(target)
    }

    /// A state that plays `frames` (commands disabled).
    public init(replaying frames: [Snapshot], name: String) {
        self.init(target: name)
        connection = .replaying
        replay = Replay(frames: frames)
        snapshot = frames.first
        latest = frames.first
    }

    /// Routes in table order.
    public var routes: [RouteFigures] { sort.sorted(snapshot?.routes ?? []) }

    public var pools: [PoolFigures] { snapshot?.pools ?? [] }

    public var diagnoses: [Diagnosis] { snapshot?.diagnoses ?? [] }

    /// The selected route (the first when none is selected).
    public var currentRoute: RouteFigures? {
        let r = routes
        return r.first { $0.path == selectedRoute } ?? r.first
    }

    public var currentPool: PoolFigures? {
        pools.first { $0.name == selectedPool } ?? pools.first
    }

    /// The pool the workers screen lists: the selected one if its kind lists its workers, else
    /// the first that does.
    public var workersPool: PoolFigures? {
        if let p = currentPool, p.kind.listsWorkers { return p }
        return pools.first { $0.kind.listsWorkers }
    }

    /// The diagnosis `f` applies: the selected one when diagnoses have focus, else the worst
    /// one about the selected route, else the worst one with an action.
    public var currentDiagnosis: Diagnosis? {
        let d = diagnoses
        if focus == .diagnoses, d.indices.contains(selectedDiagnosis) { return d[selectedDiagnosis] }
        if let route = currentRoute?.path, let mine = d.first(where: { $0.id.hasSuffix(":" + route) && $0.action != nil }) { return mine }
        return d.first { $0.action != nil }
    }

    public var commandsEnabled: Bool { replay == nil && !readOnly && connection == .live }

    /// Which hints the bottom line shows: the screen's, or the main screen's while replaying.
    public var hintContext: Hint.Context {
        switch screen {
        case .detail: return .detail
        case .workers: return .workers
        case .stallSites: return .stallSites
        case .main, .help: return replay != nil ? .replay : group != nil ? .group : .live
        }
    }
}
