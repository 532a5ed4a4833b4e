import LoopScopeWire

/// The workers of a group the dashboard follows (`attach --group`): what each last sent, how
/// its link stands, and which view is on screen — the whole group or one worker. A plain value,
/// changed only by `DashboardState+Group`.
public struct GroupState: Sendable {
    /// What the dashboard shows of the group.
    public enum View: Equatable, Sendable {
        /// Every answering worker merged (`GroupMerge`).
        case all
        /// One worker's own snapshot.
        case worker(Int)
    }

    /// One worker slot, by index; a restarted worker takes its slot again.
    public struct Worker: Sendable {
        /// The state of the connection to the worker's control socket.
        public enum Link: Equatable, Sendable {
            case connecting
            case live
            /// The connection ended and the process is gone (the supervisor restarts it).
            case lost(reason: String)
            /// The connection ended but the process still runs: it stopped answering.
            case unresponsive(reason: String)
        }

        /// Its index in the group (`GroupMember.worker`).
        public let index: Int
        /// The process last seen in this slot.
        public var pid: Int32?
        /// The last snapshot it sent (kept after it went away, for its own view).
        public var snapshot: Snapshot?
        /// Frames its server dropped for this client (slow reader), since it connected.
        public var dropped: UInt64 = 0
        /// Whether its connection may only read.
        public var readOnly = false
        /// When its last frame came, in the state's seconds; nil before the first.
        public var lastFrame: Double?
        /// When the link last changed.
        public var since: Double
        /// How its connection stands.
        public var link: Link = .connecting

        /// A slot not yet connected, as of `since`.
        public init(index: Int, since: Double) {
            self.index = index
            self.since = since
        }
    }

    /// How a worker stands, as the workers line says it.
    public enum Health: Equatable, Sendable {
        case connecting
        case up
        /// Its process runs but sent no frame for `seconds`.
        case silent(seconds: Int)
        /// Its connection ended `seconds` after its last frame and it has not come back: the
        /// supervisor restarts a worker that exits.
        case restarting(seconds: Int)

        /// Whether the worker answers (its figures are in the merge).
        public var isUp: Bool { self == .up }
    }

    /// The group's id, `demo-app/4242`.
    public let id: String
    /// One slot per worker index, `0..<size`.
    public var workers: [Worker]
    /// What the dashboard shows: the whole group or one worker.
    public var view: View = .all
    /// A connected worker whose last frame is older than this (seconds) is not answering.
    public let staleAfter: Double
    /// The (worker, sequence) pairs the shown snapshot was built from: nothing to do when the
    /// next tick finds the same.
    var shownFrom: [Int: UInt64] = [:]
    var shownView: View?

    /// A group of `size` workers, none connected yet, as of `now`.
    public init(id: String, size: Int, staleAfter: Double, now: Double) {
        self.id = id
        self.staleAfter = staleAfter
        workers = (0..<max(size, 1)).map { Worker(index: $0, since: now) }
    }

    /// How often each worker streams, milliseconds. A server rolls its windows over once a
    /// second, so the group as a whole brings `refreshHz` frames a second, as one server does:
    /// each worker every `workers × refresh interval` (at most 1 s apart), and the screen, still
    /// redrawn `refreshHz` times a second, shows whichever worker's figures are new. The worker
    /// on screen in its own view streams at the full rate. (Each at the full rate cost 5.7 % of
    /// a core with 4 workers at 10 Hz, two thirds of it decoding JSON; see docs/ARCHITECTURE.md.)
    public static func streamIntervals(view: View, workers: Int, refreshHz: Int) -> [Int: Int] {
        let full = 1000 / max(refreshHz, 1)
        let shared = min(max(full, 1000), full * max(workers, 1))
        return Dictionary(uniqueKeysWithValues: (0..<workers).map { i in (i, view == .worker(i) ? full : shared) })
    }

    /// How `w` stands at `now`: up while its frames come, not answering when they stopped
    /// while its process runs, restarting when its process exited.
    public func health(_ w: Worker, now: Double) -> Health {
        let quiet = Int((now - (w.lastFrame ?? w.since)).rounded(.down))
        switch w.link {
        case .connecting: return w.lastFrame == nil ? .connecting : .restarting(seconds: max(0, quiet))
        case .live:
            guard let last = w.lastFrame else { return now - w.since > staleAfter ? .silent(seconds: quiet) : .connecting }
            return now - last > staleAfter ? .silent(seconds: quiet) : .up
        case .lost: return .restarting(seconds: max(0, quiet))
        case .unresponsive: return .silent(seconds: max(0, quiet))
        }
    }

    /// The snapshots of the workers that answer now, for the merge.
    public func answering(now: Double) -> [WorkerSnapshot] {
        workers.compactMap { w in health(w, now: now).isUp ? w.snapshot.map { WorkerSnapshot(worker: w.index, snapshot: $0) } : nil }
    }

    /// The workers a command goes to in the current view: the viewed worker, or every worker
    /// that answers; empty when none does.
    public func commandTargets(now: Double) -> [Int] {
        switch view {
        case .all: return workers.filter { health($0, now: now).isUp }.map(\.index)
        case .worker(let i): return workers.indices.contains(i) && health(workers[i], now: now).isUp ? [i] : []
        }
    }

    /// `w1 pid 4243 up`, `w1 restarting (no answer 2 s)`: one worker on the workers line;
    /// `short` leaves out an answering worker's pid.
    public func describe(_ w: Worker, now: Double, short: Bool = false) -> String {
        let name = GroupMerge.label(w.index)
        let pid = w.pid.map { " pid \($0)" } ?? ""
        switch health(w, now: now) {
        case .connecting: return "\(name) connecting"
        case .up: return short ? "\(name) up" : "\(name)\(pid) up"
        case .silent(let s): return "\(name)\(pid) no answer \(s) s"
        case .restarting(let s): return "\(name) restarting (no answer \(s) s)"
        }
    }

    /// What the header says of the view: `group demo-app/4242: all 2 workers`, `… w1 pid 4243`.
    public var viewLabel: String {
        switch view {
        case .all: return "group \(id): all \(workers.count) workers"
        case .worker(let i): return "group \(id): \(GroupMerge.label(i))" + (workers[i].pid.map { " pid \($0)" } ?? "")
        }
    }
}
