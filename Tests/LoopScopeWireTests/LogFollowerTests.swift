import Testing
import Foundation
import LoopScopeWire

/// `loopscope log` prints each error, slow request and event once, newest errors as the count grows.
@Suite struct LogFollowerTests {
    func snapshot(errors: [RouteError], slow: [SlowRequest], events: [ControlEvent] = []) -> Snapshot {
        var r = RouteFigures(method: "GET", path: "/orders/{id}", model: .task)
        r.recentErrors = errors
        r.slowRequests = slow
        var s = Snapshot(server: ServerInfo(name: "t", pid: 1, startedAt: 0, uptimeSeconds: 1, address: "", cores: 2), loops: [], pools: [], routes: [r])
        s.events = events
        return s
    }

    @Test func eachThingIsPrintedOnceAndAGrowingErrorByItsNewCount() {
        var f = LogFollower()
        let slow = SlowRequest(time: 3_600 + 5, status: 200, latencyMicros: 412_000, thresholdMicros: 356_000,
                               split: LatencySplit(queueMicros: 64, ioMicros: 13_000, poolWaitMicros: 398_000))
        var error = RouteError(status: 504, message: "no postgres connection free within 2000 ms", count: 3, firstSeen: 3_600, lastSeen: 3_604)
        let event = ControlEvent(sequence: 7, time: 3_606, kind: .resize, subject: "postgres", old: "2", new: "5", actor: "pid 9 uid 0")
        let first = f.newLines(snapshot(errors: [error], slow: [slow], events: [event]))
        #expect(first == [
            "01:00:04Z  5xx   GET /orders/{id}  504 ×3 no postgres connection free within 2000 ms",
            "01:00:05Z  slow  GET /orders/{id}  412ms (over 356ms): pool wait 398ms · I/O 13.0ms · queue 64µs",
            "01:00:06Z  event resize postgres 2 → 5  (pid 9 uid 0)",
        ])
        #expect(f.newLines(snapshot(errors: [error], slow: [slow], events: [event])).isEmpty, "nothing new")
        error.count = 5
        error.lastSeen = 3_610
        #expect(f.newLines(snapshot(errors: [error], slow: [slow], events: [event])) == ["01:00:10Z  5xx   GET /orders/{id}  504 ×2 no postgres connection free within 2000 ms"])
    }
}
