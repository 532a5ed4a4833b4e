import Dispatch
import Foundation
import NIOConcurrencyHelpers
import Synchronization
import LoopScopeAgent
import LoopScopeClient
import LoopScopeCurses
import LoopScopeRuntime
import LoopScopeTUI
import LoopScopeWire

/// Runs the dashboard: one UI thread owns the terminal and selects over keys, feed events and
/// ticks; views never do I/O. Commands go out as tasks and their results come back as events.
final class DashboardRunner: @unchecked Sendable {
    // `@unchecked Sendable`: `state`, `previous` and `backend` are touched only by the UI thread;
    // other threads talk to it through `inbox` (a lock) and `stop` (an atomic).
    enum Inbound: Sendable {
        case feed(SnapshotFeed.Event)
        case worker(GroupFeed.Event)
        case commandFinished(label: String, error: String?, message: String?)
    }

    private var state: DashboardState
    private let feed: SnapshotFeed?
    private let groupFeed: GroupFeed?
    private let view: DashboardView
    private let inbox = NIOLockedValueBox<[Inbound]>([])
    private let stop = Atomic<Bool>(false)
    private var previous: ScreenBuffer?

    private let guide: (@Sendable () -> [String])?

    private init(state: DashboardState, feed: SnapshotFeed?, groupFeed: GroupFeed?, glyphs: Glyphs, guide: (@Sendable () -> [String])?) {
        self.state = state
        self.feed = feed
        self.groupFeed = groupFeed
        self.view = DashboardView(glyphs: glyphs)
        self.guide = guide
    }

    /// Runs until the user quits or a signal arrives.
    /// - Parameters:
    ///   - feed: one server's snapshots; `groupFeed`: every worker's of a group (one of them, or
    ///     neither for a replay).
    ///   - guide: lines of guidance to show, read every frame (the demo's phase).
    static func run(state: DashboardState, feed: SnapshotFeed?, groupFeed: GroupFeed? = nil, glyphs: Glyphs, color: Bool, guide: (@Sendable () -> [String])? = nil) async throws {
        let runner = DashboardRunner(state: state, feed: feed, groupFeed: groupFeed, glyphs: glyphs, guide: guide)
        let signals = Task { await SignalWaiter.wait(for: [.sigterm, .sighup, .sigint]); runner.stop.store(true, ordering: .relaxed) }
        if let feed {
            let events = feed.start()
            Task {
                for await e in events { runner.post(.feed(e)) }
            }
        }
        if let groupFeed {
            let events = groupFeed.start()
            Task {
                for await e in events { runner.post(.worker(e)) }
            }
        }
        let result: Result<Void, any Error> = await withCheckedContinuation { continuation in
            // ncurses blocks in getch: it gets a thread of its own, never a pool thread.
            let thread = Thread {
                ThreadName.set("loopscope-ui")
                do {
                    let backend = try CursesBackend(color: color)
                    runner.loop(backend)
                    backend.shutdown()
                    continuation.resume(returning: .success(()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
            thread.start()
        }
        signals.cancel()
        feed?.stop()
        groupFeed?.stop()
        try result.get()
    }

    private func post(_ event: Inbound) {
        inbox.withLockedValue { $0.append(event) }
    }

    private func loop(_ backend: CursesBackend) {
        let frameMillis = max(20, 1000 / max(state.refreshHz, 1))
        var instantEmptyReads = 0
        while !stop.load(ordering: .relaxed) {
            let now = Date().timeIntervalSince1970
            for event in inbox.withLockedValue({ e -> [Inbound] in defer { e.removeAll() }; return e }) {
                apply(event, now: now)
            }
            state.tick(now: now)
            if let guide { state.guide = guide() }
            redraw(backend)
            let asked = Date()
            guard let key = backend.nextKey(timeoutMillis: frameMillis) else {
                // A terminal that vanished answers at once with nothing: leave instead of spinning.
                instantEmptyReads = Date().timeIntervalSince(asked) < 0.002 ? instantEmptyReads + 1 : 0
                if backend.terminalGone || instantEmptyReads > 50 || getppid() == 1 { return }
                continue
            }
            instantEmptyReads = 0
            if key == .resize {
                backend.invalidate()
                previous = nil
            }
            for effect in state.handle(key, now: Date().timeIntervalSince1970) {
                if !perform(effect) { return }
            }
            // Drain keys typed ahead (held arrows) before the next draw.
            while let more = backend.nextKey(timeoutMillis: 0) {
                if more == .resize { backend.invalidate(); previous = nil }
                for effect in state.handle(more, now: Date().timeIntervalSince1970) where !perform(effect) { return }
            }
        }
    }

    private func redraw(_ backend: CursesBackend) {
        let (rows, cols) = backend.size()
        let buffer = view.render(state, rows: rows, columns: cols)
        let runs = buffer.changes(from: previous)
        if !runs.isEmpty { backend.draw(runs) }
        previous = buffer
    }

    private func apply(_ event: Inbound, now: Double) {
        switch event {
        case .feed(.connected(let greeting)):
            state.connected(readOnly: greeting.readOnly, now: now)
        case .feed(.frame(let frame)):
            state.receive(frame.snapshot, dropped: frame.dropped, now: now)
        case .feed(.disconnected(let reason, let retry)):
            state.disconnected(reason: reason, retryInMillis: retry, now: now)
        case .worker(let e):
            switch e.event {
            case .connected(let greeting): state.workerConnected(e.worker, pid: greeting.pid, readOnly: greeting.readOnly, now: now)
            case .frame(let frame): state.receive(worker: e.worker, frame.snapshot, dropped: frame.dropped, now: now)
            case .disconnected(let reason, _): state.workerDisconnected(e.worker, reason: reason, processRuns: e.processRuns, now: now)
            }
        case .commandFinished(let label, let error, let message):
            state.commandFinished(label, error: error, message: message, now: now)
        }
    }

    /// Performs an effect; false means quit.
    private func perform(_ effect: Effect) -> Bool {
        switch effect {
        case .quit:
            return false
        case .dump(let snapshot):
            let name = "loopscope-dump-\(snapshot.server.name)-\(Int(snapshot.time)).json"
            let ok = FileManager.default.createFile(atPath: name, contents: Data(WireCodec(prettyPrinted: true).encode(snapshot)))
            state.commandFinished("dump", error: ok ? nil : "cannot write \(name)", message: "snapshot \(snapshot.sequence) written to \(name)", now: Date().timeIntervalSince1970)
        case .streamIntervals(let intervals):
            guard let groupFeed else { return true }
            Task { await groupFeed.setIntervals(intervals) }
        case .sendToWorkers(let commands, let label):
            guard let groupFeed else { return true }
            Task { [self] in
                let outcomes = await groupFeed.send(commands)
                let failed = outcomes.compactMap { o -> String? in
                    guard case .failure(let error) = o.result else { return nil }
                    if case ClientError.server(_, let message) = error { return "\(GroupMerge.label(o.worker)): \(message)" }
                    return "\(GroupMerge.label(o.worker)): \(error)"
                }
                let done = outcomes.compactMap { o -> String? in if case .success(let r) = o.result { return r.message }; return nil }
                // The first worker's answer, and how many answered so (each says its own old value).
                let message = done.first.map { "\($0) (\(done.count) of \(outcomes.count) worker\(outcomes.count == 1 ? "" : "s"))" }
                post(.commandFinished(label: label, error: failed.isEmpty ? nil : failed.joined(separator: "; "), message: message))
            }
        case .send(let command, let label):
            guard let feed else { return true }
            Task { [self] in
                do {
                    let result = try await feed.send(command)
                    post(.commandFinished(label: label, error: nil, message: result.message))
                } catch ClientError.server(_, let message) {
                    post(.commandFinished(label: label, error: message, message: nil))
                } catch {
                    post(.commandFinished(label: label, error: "\(error)", message: nil))
                }
            }
        }
        return true
    }
}
