import Testing
import LoopScopeTUI
import LoopScopeWire

@Suite struct DashboardViewTests {
    let view = DashboardView(glyphs: .unicode)

    func text(_ s: DashboardState, rows: Int = 24, columns: Int = 80, glyphs: Glyphs = .unicode) -> [String] {
        DashboardView(glyphs: glyphs).render(s, rows: rows, columns: columns).lines
    }

    @Test func liveAt80x24ShowsLoopsPoolsRoutesAndTheDiagnosis() {
        let lines = text(Fixtures.live())
        #expect(lines.count == 24)
        #expect(lines.allSatisfy { $0.count <= 80 })
        #expect(lines[0].hasPrefix(" loopscope  demo-app pid 4242"))
        #expect(lines[0].hasSuffix("● live 10 Hz"))
        #expect(lines[1].hasPrefix(" EVENT LOOPS  lag p99"))
        #expect(lines[1].hasPrefix(" EVENT LOOPS  lag p99      max   cpu  stalls  culprit"))
        #expect(lines[2] == "  loop 0       41.2ms   52.0ms   93%     318  /hash                     ▁▁▅█▇")
        #expect(lines[3].hasPrefix("  tasks         0.2ms    1.0ms     -       0"), "not measured yet: -")
        #expect(lines.contains { $0.hasPrefix(" threads       4    4    37   1024    18.0ms     410        0") })
        #expect(lines.contains { $0.hasPrefix(">/db         loop          200  10.4ms  55.0ms  60.0ms     0  blocking    10.2ms") })
        #expect(lines.contains { $0.hasPrefix(" /hash       loop          300   5.1ms  48.3ms  53.3ms     0  cpu          5.0ms") })
        #expect(lines[21].hasPrefix(" ! /hash holds loop 0 for 5.0 ms a request (CPU-"))
        #expect(lines[21].hasSuffix("[f: move /hash to threads]"))
        #expect(lines[23].contains("? help  q quit"))
    }

    @Test func wideTerminalsGiveRoutesAndChartsMoreRoom() {
        let lines = text(Fixtures.live(), rows: 40, columns: 140)
        #expect(lines.count == 40)
        #expect(lines[0].contains("127.0.0.1:8080"))
        // The request measures' columns (those with a header) take 9 each from the paths' room.
        let measures = RequestMeasure.allCases.compactMap(\.about.header)
        #expect(lines.contains { $0.hasPrefix(" /hash" + String(repeating: " ", count: 67 - 9 * measures.count) + "loop") })
        let head = lines.first { $0.hasPrefix(" ROUTES") } ?? ""
        // Each header keeps a cell for the sort mark, as the other columns do.
        let heads = measures.map { String(repeating: " ", count: 8 - $0.count) + $0 }.joined(separator: " ")
        #expect(head.hasSuffix("held " + heads), "\(head)")
        #expect(lines.contains { $0.hasPrefix(" /hash") && $0.hasSuffix("5.0ms" + String(repeating: "        -", count: measures.count)) }, "none measured: -")
        // At 80 columns the paths keep their room.
        #expect(!text(Fixtures.live()).contains { $0.contains("in/req") })
    }

    @Test func theHeaderShowsOpenConnectionsAndThoseTheServerClosedWhenThereIsRoom() {
        var snapshot = Fixtures.snapshot()
        snapshot.connections = ConnectionFigures(open: 12, limit: 10_000, accepted: 1_530, closedHeaderTimeout: 1_500, closedIdle: 17)
        var s = DashboardState(target: "demo-app")
        s.receive(snapshot, dropped: 0, now: 1_000)
        #expect(text(s, rows: 40, columns: 140)[0].contains("12 conn (1517 closed)"))
        // At 80 columns the server's name, address and uptime come first.
        #expect(!text(s)[0].contains("conn"))
        #expect(text(s)[0].hasPrefix(" loopscope  demo-app pid 4242"))
    }

    @Test func theStallSitesScreenNamesFunctionsAndBlockedCallsAt80x24() {
        var s = Fixtures.live()
        _ = s.handle(.character("t"), now: 1_001)
        let lines = text(s)
        #expect(lines.allSatisfy { $0.count <= 80 })
        #expect(lines[1].hasPrefix(" STALL SITES"))
        #expect(lines[2] == "  executor function                       60 s stalls     max  route        seen")
        #expect(lines[3] == "  loop 0   CPUWork.mix(rounds:seed:)     812ms     20  36.9ms  /hash      3s ago")
        #expect(lines[4] == "           ← CPUWork.hash(milliseconds:seed:) ← closure #1 in DemoJobs.hash")
        #expect(lines[5] == "  loop 0   blocked in clock_nanosleep    554ms     20  29.8ms  /db        1m ago")
        #expect(lines[6] == "           asleep in clock_nanosleep; named from /proc, never signalled")
        #expect(lines[7].hasPrefix("  tasks    FakeAsync.renderPage(milli…  95.0ms      4  31.0ms  /render    1s ago"))
        #expect(lines[23].hasPrefix(" Esc back  t back"))
        _ = s.handle(.character("t"), now: 1_002)
        #expect(text(s)[1].hasPrefix(" EVENT LOOPS"))
        _ = s.handle(.character("t"), now: 1_003)
        let wide = text(s, rows: 50, columns: 160)
        #expect(wide.contains { $0.hasPrefix("  tasks    FakeAsync.renderPage(milliseconds:seed:) (async)") })
    }

    @Test func routeDetailSplitsLoopWaitFromTheRestAndListsTheRoutesStallSites() {
        var s = Fixtures.live()
        while s.currentRoute?.path != "/hash" { _ = s.handle(.down, now: 1_000) }
        _ = s.handle(.enter, now: 1_000)
        let lines = text(s)
        #expect(lines.contains { $0.contains("▓ loop wait 2.5ms  ░ queue 0.1ms  █ compute 5.0ms  ▚ pool wait 0  ▒ I/O 0") })
        #expect(lines.contains { $0.hasPrefix(" stalled loop 0 in CPUWork.mix(rounds:seed:)  812ms in 20 stalls, 60 s ← CPUWork") })
        let ascii = text(s, glyphs: .ascii)
        #expect(ascii.contains { $0.contains("~ loop wait 2.5ms  . queue 0.1ms  # compute 5.0ms  : pool wait 0  = I/O 0") })
    }

    @Test func pausedFreezesTheSnapshotAndSaysSo() {
        var s = Fixtures.live()
        _ = s.handle(.character("p"), now: 1_001)
        s.receive(Fixtures.snapshot(time: 2_000), dropped: 0, now: 1_002)
        #expect(s.snapshot?.time == 1_000)
        #expect(text(s)[0].hasSuffix("❚❚ paused"))
        _ = s.handle(.character("p"), now: 1_003)
        #expect(s.snapshot?.time == 2_000)
    }

    @Test func disconnectedKeepsTheLastDataAndCountsDownTheRetry() {
        var s = Fixtures.live()
        s.disconnected(reason: "disconnected: the server closed the connection", retryInMillis: 3_000, now: 1_000)
        let lines = text(s)
        #expect(lines[0].hasSuffix("server gone: reconnecting in 3s"))
        #expect(lines[2].contains("/hash"))
        #expect(lines[22] == " ✖ disconnected: the server closed the connection (last data kept)")
    }

    @Test func replayShowsPositionAndSpeedAndRefusesCommands() {
        var s = DashboardState(replaying: [Fixtures.snapshot(time: 1), Fixtures.snapshot(time: 2)], name: "run.ndjson")
        #expect(text(s)[0].hasSuffix("replay 1/2 1.0×"))
        #expect(s.handle(.character("3"), now: 5).isEmpty)
        #expect(text(s)[22].contains("replaying a recording: commands are disabled"))
        _ = s.handle(.right, now: 6)
        #expect(text(s)[0].hasSuffix("replay 2/2 1.0× paused"))
    }

    @Test func emptyStateWaitsForData() {
        let lines = text(DashboardState(target: "demo-app"))
        #expect(lines[0].hasSuffix("connecting…"))
        #expect(lines[3].contains("no data yet: demo-app"))
    }

    @Test func aStallInProgressIsShownOnItsLoop() {
        var s = DashboardState(target: "x")
        s.receive(Fixtures.snapshot(stalled: true), dropped: 0, now: 1)
        #expect(text(s)[2].contains("STALLED 340ms /r…"))
    }

    @Test func tooSmallSaysSoInsteadOfGarbling() {
        let lines = text(Fixtures.live(), rows: 12, columns: 50)
        #expect(lines.contains { $0.contains("terminal too small: 50×12") })
        #expect(lines.contains { $0.contains("needs at least 78×18") })
        #expect(!lines.contains { $0.contains("ROUTES") })
    }

    @Test func asciiFallbackUsesNoUnicode() {
        let lines = text(Fixtures.live(), glyphs: .ascii)
        let all = lines.joined()
        #expect(all.unicodeScalars.allSatisfy { $0.isASCII })
        #expect(lines[0].hasSuffix("* live 10 Hz"))
        #expect(lines[2].hasSuffix("__+#%"))
    }

    @Test func helpOverlayListsTheKeys() {
        var s = Fixtures.live()
        _ = s.handle(.character("?"), now: 1)
        let all = text(s).joined(separator: "\n")
        #expect(all.contains("1 / 2 / 3 / 4       run the route on loop / task / threads / processes"))
        _ = s.handle(.character("x"), now: 2)
        #expect(s.screen == .main)
    }

    @Test func routeDetailShowsPercentilesSplitAndMarkedHistory() {
        var s = Fixtures.live()
        _ = s.handle(.down, now: 1) // /fanout
        _ = s.handle(.down, now: 1) // /hash
        _ = s.handle(.enter, now: 1)
        let lines = text(s)
        #expect(lines[1].hasPrefix(" ROUTE GET /hash"))
        #expect(lines.contains { $0.contains("p99") && $0.contains("48.3ms") })
        #expect(lines.contains { $0.contains("█ compute 5.0ms") })
        #expect(lines.contains { $0.contains("2s ago: route /hash threads → loop") })
    }

    @Test func workersViewListsProcessWorkers() {
        var s = Fixtures.live()
        _ = s.handle(.character("w"), now: 1)
        let lines = text(s)
        #expect(lines.contains { $0.hasPrefix("   501        busy") })
        #expect(lines.contains { $0.contains("502") && $0.contains("8.6 MB") })
    }
}
