import Testing
import LoopScopeTUI
import LoopScopeWire

@Suite struct ReducerTests {
    @Test func numberKeysMoveTheSelectedRoute() {
        var s = Fixtures.live()
        _ = s.handle(.character("j"), now: 1)
        _ = s.handle(.down, now: 1)
        #expect(s.currentRoute?.path == "/hash")
        #expect(s.handle(.character("3"), now: 1) == [.send(.route(method: "GET", path: "/hash", model: .threads), label: "move /hash to threads")])
        #expect(s.handle(.character("m"), now: 1) == [.send(.route(method: "GET", path: "/hash", model: .task), label: "move /hash to task")])
    }

    @Test func poolsResizeByOneOrByATypedNumber() {
        var s = Fixtures.live()
        _ = s.handle(.tab, now: 1)
        #expect(s.focus == .pools)
        #expect(s.handle(.character("+"), now: 1) == [.send(.resize(pool: "threads", size: 5), label: "resize threads to 5")])
        _ = s.handle(.down, now: 1)
        #expect(s.handle(.character("-"), now: 1) == [.send(.resize(pool: "processes", size: 1), label: "resize processes to 1")])
        _ = s.handle(.character("n"), now: 1)
        _ = s.handle(.character("1"), now: 1)
        _ = s.handle(.character("2"), now: 1)
        #expect(s.prompt?.text == "12")
        #expect(s.handle(.enter, now: 1) == [.send(.resize(pool: "processes", size: 12), label: "resize processes to 12")])
        _ = s.handle(.character("L"), now: 1)
        _ = s.handle(.character("9"), now: 1)
        #expect(s.handle(.enter, now: 1) == [.send(.limit(pool: "processes", limit: 9), label: "limit processes to 9")])
    }

    @Test func enterOnAPoolOpensItsWorkersOnlyForKindsThatListThem() {
        for kind in PoolKind.allCases {
            var snapshot = Fixtures.snapshot()
            snapshot.pools = [PoolFigures(name: "pool", kind: kind, size: 1, live: 1, busy: 0, queued: 0, queueLimit: 1)]
            var s = DashboardState(target: "t")
            s.receive(snapshot, dropped: 0, now: 1)
            _ = s.handle(.tab, now: 1)
            #expect(DashboardView(glyphs: .unicode).render(s, rows: 24, columns: 80).lines.contains { $0.hasPrefix(">pool ") })
            _ = s.handle(.enter, now: 1)
            #expect(s.screen == (kind.listsWorkers ? .workers : .detail), "\(kind)")
            #expect((s.workersPool != nil) == kind.listsWorkers)
        }
    }

    @Test func fixAppliesTheSelectedRoutesDiagnosis() {
        var s = Fixtures.live()
        #expect(s.handle(.character("f"), now: 1) == [.send(.fix(diagnosis: "cpu-on-loop:/hash"), label: "fix cpu-on-loop:/hash")])
    }

    @Test func commandResultsReachTheStatusLine() {
        var s = Fixtures.live()
        s.commandFinished("resize threads to 0", error: "size must be between 1 and 256, got 0", message: nil, now: 2)
        #expect(s.status?.isError == true)
        #expect(DashboardView(glyphs: .unicode).render(s, rows: 24, columns: 80).lines[22] == " resize threads to 0 failed: size must be between 1 and 256, got 0")
    }

    @Test func sortingCyclesColumnsAndInverts() {
        var s = Fixtures.live()
        #expect(s.routes.map(\.path) == ["/db", "/fanout", "/hash", "/hello"])
        _ = s.handle(.character("s"), now: 1) // model
        _ = s.handle(.character("s"), now: 1) // rate, descending
        #expect(s.routes.first?.path == "/hello")
        _ = s.handle(.character("S"), now: 1)
        #expect(s.routes.first?.path == "/db")
        #expect(s.status?.text == "routes by requests per second, lowest first")
    }

    @Test func routesSortByEachRequestMeasureAndTheStatusLineNamesIt() {
        var snapshot = Fixtures.snapshot()
        // Each measure ranks the routes differently: the i-th measure puts the i-th route first.
        for (i, route) in snapshot.routes.indices.enumerated() {
            for m in RequestMeasure.allCases { snapshot.routes[route].perRequest[m] = Double(10 + ((i + m.rawValue) % 4) * 100) }
        }
        var s = DashboardState(target: "demo-app")
        s.receive(snapshot, dropped: 0, now: 1_000)
        let fixed = RouteSort.Column.allCases.filter { if case .measure = $0 { return false } else { return true } }.count
        for _ in 1..<fixed { _ = s.handle(.character("s"), now: 1) }
        #expect(s.sort.column == .held)
        for m in RequestMeasure.allCases where m.about.header != nil {
            _ = s.handle(.character("s"), now: 1)
            #expect(s.sort.column == .measure(m))
            #expect(s.status?.text == "routes by \(m.about.name) per request, highest first")
            let values = s.routes.map { $0.perRequest[m] }
            #expect(values == values.sorted(by: >), "\(m)")
            // A wide terminal marks the column; a narrow one hides it (the status line names it).
            let head = DashboardView(glyphs: .unicode).render(s, rows: 40, columns: 160).lines.first { $0.hasPrefix(" ROUTES") } ?? ""
            #expect(head.contains(m.about.header! + "▼"), "\(head)")
        }
        _ = s.handle(.character("s"), now: 1)
        #expect(s.sort.column == .route, "the cycle wraps to the first column")
    }

    @Test func noCommandIsSentWhileDisconnected() {
        var s = Fixtures.live()
        s.disconnected(reason: "gone", retryInMillis: 100, now: 1)
        #expect(s.handle(.character("3"), now: 1).isEmpty)
        #expect(s.status?.text.contains("not connected") == true)
    }

    @Test func replayAdvancesAtTheRecordedPaceTimesTheSpeed() {
        var s = DashboardState(replaying: (0..<5).map { Fixtures.snapshot(time: Double($0)) }, name: "r")
        s.tick(now: 100)
        s.tick(now: 100.5)
        #expect(s.replay?.index == 0)
        s.tick(now: 101.01)
        #expect(s.replay?.index == 1)
        _ = s.handle(.character("]"), now: 101.01)
        s.tick(now: 101.6)
        #expect(s.replay?.index == 2)
        _ = s.handle(.character("G"), now: 102)
        #expect(s.replay?.index == 4)
    }

    @Test func quitAndDump() {
        var s = Fixtures.live()
        #expect(s.handle(.character("q"), now: 1) == [.quit])
        #expect(s.handle(.control("c"), now: 1) == [.quit])
        #expect(s.handle(.character("d"), now: 1) == [.dump(Fixtures.snapshot())])
    }
}
