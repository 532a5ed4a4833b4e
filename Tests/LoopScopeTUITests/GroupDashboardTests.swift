import Testing
import LoopScopeTUI
import LoopScopeWire

/// `attach --group`: the merged view, `v` through each worker, commands to the view's workers,
/// and workers that stop answering shown, never dropped.
@Suite struct GroupDashboardTests {
    func text(_ s: DashboardState, rows: Int = 24, columns: Int = 80) -> [String] {
        DashboardView(glyphs: .unicode).render(s, rows: rows, columns: columns).lines
    }

    /// A new frame (the next sequence) from `worker` at `now`.
    static func freshFrame(_ s: inout DashboardState, worker: Int, pid: Int32, now: Double) {
        var fresh = Fixtures.snapshot(time: now)
        fresh.server.pid = pid
        fresh.sequence = (s.group?.workers[worker].snapshot?.sequence ?? 0) + 1
        s.receive(worker: worker, fresh, dropped: 0, now: now)
    }

    @Test func theGroupViewMergesBothWorkersAndSaysSo() {
        let s = Fixtures.group()
        #expect(s.snapshot?.routes.first { $0.path == "/hash" }?.rate10s == 600)
        #expect(s.snapshot?.pool("threads")?.size == 9)
        let lines = text(s)
        #expect(lines.allSatisfy { $0.count <= 80 })
        #expect(lines[0].hasPrefix(" loopscope  group demo/4240: all 2 workers"))
        #expect(text(s, rows: 50, columns: 160)[0].contains("  2 loops  "), "w0 tasks and w1 tasks are not loops")
        #expect(lines[0].hasSuffix("● live 10 Hz"))
        #expect(lines[1] == " GROUP w0 pid 4241 up  w1 pid 4242 up")
        #expect(lines.contains { $0.hasPrefix("  w0 loop 0") } && lines.contains { $0.hasPrefix("  w1 loop 0") })
        #expect(lines.contains { $0.hasPrefix(" threads       9    8    74   2048") })
        #expect(lines.contains { $0.contains("! w0: /hash holds loop 0") })
        #expect(lines[23] == KeyMap.hints(.group, .unicode, width: 80))
    }

    @Test func vCyclesTheViewThroughEachWorkerAndBack() {
        var s = Fixtures.group()
        // The worker on screen streams at the full rate, the other at the group's share.
        #expect(s.handle(.character("v"), now: 1_000) == [.streamIntervals([0: 100, 1: 200])])
        #expect(s.group?.view == .worker(0))
        #expect(s.snapshot?.server.pid == 4241)
        #expect(text(s)[0].hasPrefix(" loopscope  group demo/4240: w0 pid 4241"))
        #expect(text(s).contains { $0.hasPrefix("  loop 0") }, "a worker's own loops, unlabelled")
        _ = s.handle(.character("v"), now: 1_000)
        #expect(s.group?.view == .worker(1))
        #expect(s.snapshot?.pool("threads")?.size == 5)
        #expect(s.handle(.character("v"), now: 1_000) == [.streamIntervals([0: 200, 1: 200])])
        #expect(s.group?.view == .all)
        #expect(s.snapshot?.pool("threads")?.size == 9)
        // Not a group: v says so and changes nothing.
        var single = Fixtures.live()
        _ = single.handle(.character("v"), now: 1)
        #expect(single.status?.text.contains("--group") == true)
    }

    @Test func togetherTheWorkersStreamAtTheRefreshRateEachAtMostASecondApart() {
        #expect(GroupState.streamIntervals(view: .all, workers: 4, refreshHz: 10) == [0: 400, 1: 400, 2: 400, 3: 400])
        #expect(GroupState.streamIntervals(view: .worker(2), workers: 4, refreshHz: 10) == [0: 400, 1: 400, 2: 100, 3: 400])
        #expect(GroupState.streamIntervals(view: .all, workers: 16, refreshHz: 10)[15] == 1000)
        #expect(GroupState.streamIntervals(view: .all, workers: 2, refreshHz: 1) == [0: 1000, 1: 1000])
        #expect(GroupState.streamIntervals(view: .all, workers: 1, refreshHz: 10) == [0: 100])
    }

    @Test func commandsGoToEveryWorkerOfTheViewEachFromItsOwnFigures() {
        var s = Fixtures.group()
        _ = s.handle(.down, now: 1_000)
        _ = s.handle(.down, now: 1_000)
        #expect(s.handle(.character("3"), now: 1_000) == [.sendToWorkers([0: .route(method: "GET", path: "/hash", model: .threads), 1: .route(method: "GET", path: "/hash", model: .threads)],
                                                                         label: "move /hash to threads on every worker")])
        // +: each worker's own pool grows by one (4 → 5, 5 → 6), not the group's sum.
        _ = s.handle(.tab, now: 1_000)
        #expect(s.handle(.character("+"), now: 1_000) == [.sendToWorkers([0: .resize(pool: "threads", size: 5), 1: .resize(pool: "threads", size: 6)],
                                                                         label: "resize threads by +1 on every worker")])
        // f: only to the worker that has the diagnosis.
        #expect(s.handle(.character("f"), now: 1_000) == [.sendToWorkers([0: .fix(diagnosis: "cpu-on-loop:/hash")], label: "fix cpu-on-loop:/hash on w0")])
        // In one worker's view, to that worker alone.
        _ = s.handle(.character("v"), now: 1_000)
        _ = s.handle(.character("v"), now: 1_000)
        #expect(s.handle(.character("-"), now: 1_000) == [.sendToWorkers([1: .resize(pool: "threads", size: 4)], label: "resize threads by -1 on w1")])
    }

    @Test func aWorkerThatGoesAwayIsShownRestartingAndItsSuccessorIsPickedUp() {
        var s = Fixtures.group()
        s.workerDisconnected(1, reason: "disconnected: the server closed the connection", now: 1_001)
        Self.freshFrame(&s, worker: 0, pid: 4241, now: 1_002.5)
        s.tick(now: 1_002.5)
        let lines = text(s)
        #expect(lines[1] == " GROUP w0 pid 4241 up  w1 restarting (no answer 2 s)")
        #expect(lines[0].hasSuffix("● 1/2 live 10 Hz"))
        // The merge is of the worker that answers.
        #expect(s.snapshot?.pool("threads")?.size == 4)
        #expect(s.snapshot?.loops.map(\.name) == ["w0 loop 0", "w0 tasks"])
        // Commands go to the workers that answer; to a dead worker's view, none.
        _ = s.handle(.character("3"), now: 1_002.5)
        _ = s.handle(.character("v"), now: 1_002.5)
        _ = s.handle(.character("v"), now: 1_002.5)
        #expect(s.snapshot?.server.pid == 4242, "its last data is kept for its own view")
        #expect(s.handle(.character("3"), now: 1_002.5).isEmpty)
        #expect(s.status?.text == "w1 is not answering: move /db to threads not sent")
        _ = s.handle(.character("v"), now: 1_002.5)
        // The supervisor's new worker in slot 1.
        var successor = Fixtures.snapshot(time: 1_003)
        successor.server.pid = 5000
        s.workerConnected(1, pid: 5000, readOnly: false, now: 1_003)
        s.receive(worker: 1, successor, dropped: 0, now: 1_003)
        s.tick(now: 1_003)
        #expect(text(s)[1] == " GROUP w0 pid 4241 up  w1 pid 5000 up")
        #expect(s.snapshot?.pool("threads")?.size == 8)
    }

    @Test func aConnectedWorkerThatSendsNothingIsNotAnsweringAndLeftOutOfTheMerge() {
        var s = Fixtures.group()
        Self.freshFrame(&s, worker: 0, pid: 4241, now: 1_003)
        s.tick(now: 1_003)
        #expect(text(s)[1] == " GROUP w0 pid 4241 up  w1 pid 4242 no answer 3 s")
        #expect(s.snapshot?.pool("threads")?.size == 4)
        // Every worker silent: the last data stays, and the header says none answers.
        s.tick(now: 1_010)
        #expect(s.snapshot?.pool("threads")?.size == 4)
        #expect(text(s)[0].hasSuffix("no worker answers"))
        #expect(text(s)[22].hasPrefix(" ✖ no worker of demo/4240 answers"))
    }

    @Test func aWorkerDroppedWhileItsProcessRunsIsNotAnsweringNotRestarting() {
        var s = Fixtures.group()
        Self.freshFrame(&s, worker: 0, pid: 4241, now: 1_004)
        s.workerDisconnected(1, reason: "no snapshot for 3.0 seconds", processRuns: true, now: 1_004)
        s.tick(now: 1_004)
        #expect(text(s)[1] == " GROUP w0 pid 4241 up  w1 pid 4242 no answer 4 s")
        // Then it exits: the supervisor restarts it.
        s.workerDisconnected(1, reason: "cannot connect", processRuns: false, now: 1_004.5)
        s.tick(now: 1_004.5)
        #expect(text(s)[1] == " GROUP w0 pid 4241 up  w1 restarting (no answer 4 s)")
    }

    @Test func theWorkersLineShortensAndManyLoopsAreCappedAtEightyColumns() {
        var s = DashboardState(group: "demo/4240", size: 4, staleAfter: 2, now: 1_000)
        for i in 0..<4 {
            var snap = Fixtures.snapshot(time: 1_000)
            snap.server.pid = 40_000 + Int32(i)
            snap.loops.append(LoopFigures(name: "loop 1"))
            s.workerConnected(i, pid: snap.server.pid, readOnly: false, now: 1_000)
            s.receive(worker: i, snap, dropped: 0, now: 1_000)
        }
        s.workerDisconnected(2, reason: "gone", now: 1_000)
        s.tick(now: 1_001)
        let lines = text(s)
        #expect(lines.allSatisfy { $0.count <= 80 })
        #expect(lines[1].hasPrefix(" GROUP w0 up  w1 up  w2 restarting (no answer 1 s)  w3 up"))
        // 3 workers × (2 loops + tasks) + all tasks = 10 executors: the laggiest shown, the rest counted.
        #expect(lines.contains { $0.contains("quieter executors not shown") })
        #expect(lines.contains { $0.contains("ROUTES") })
        #expect(lines.filter { $0.hasPrefix(">/") || $0.hasPrefix(" /") }.count >= 3, "routes keep room")
        let wide = text(s, rows: 50, columns: 160)
        #expect(!wide.contains { $0.contains("quieter executors") })
        #expect(wide[1].hasPrefix(" GROUP w0 pid 40000 up  w1 pid 40001 up  w2 restarting"))
    }
}
