import Testing
@testable import LoopScopeRuntime
@testable import LoopScopeAgent
import LoopScopeWire

/// Each event loop records into its own tally; the rollover merges them into the route's windows.
@Suite struct LoopTallyTests {
    private func record(_ tally: LoopTally, micros: UInt64, status: Int = 200) {
        _ = tally.started(route: 0)
        tally.finished(route: 0, status: status, record: RequestRecord(status: status, latencyNanos: micros * 1000, computeNanos: 2_000, heldNanos: 2_000))
    }

    @Test func busyAsyncRoutesAreMeasuredOncePerMillisecondAndWeighted() {
        let tally = LoopTally(routeCount: 1, heldThresholdNanos: 1_000)
        let stats = RouteStats(route: 0)
        let us: UInt64 = 1_000
        // 4000 requests 250 µs apart over one second: one in four is measured, standing for 4.
        var measured = 0
        for i in 0..<4000 {
            let plan = tally.startedAsync(route: 0, now: 1_000_000 * us + UInt64(i) * 250 * us)
            if plan.measure {
                measured += 1
                #expect(plan.weight == (i == 0 ? 1 : 4))
                // Each measured one held its thread 3 ms (fake async) on 8 ms of latency.
                tally.finished(route: 0, status: 200, record: RequestRecord(status: 200, latencyNanos: 8_000 * us, queueNanos: 5_000 * us,
                                                                            computeNanos: 3_000 * us, heldNanos: 3_000 * us, asyncHeldNanos: 3_000 * us,
                                                                            weight: plan.weight))
            } else {
                tally.finished(route: 0, status: 200, record: .unmeasured(status: 200, latencyNanos: 8_000 * us))
            }
        }
        #expect(measured == 1000)
        stats.rollover(from: [tally])
        let f = stats.figures(method: "GET", path: "/x", model: .task, counters: tally.counters()[0])
        #expect(f.requests == 4000 && f.latency.last1s.count == 4000)
        // Averages over the measured requests, not diluted by the others...
        #expect(f.split.computeMicros == 3_000 && f.split.queueMicros == 5_000)
        #expect(f.held.asyncMicros == 3_000)
        // ...and the held count and time scaled to every request.
        #expect(f.held.count == 3997)
        #expect(f.held.totalMicros == 3997 * 3_000)
        // A quiet route (requests 2 ms apart) has every request measured.
        let quiet = LoopTally(routeCount: 1, heldThresholdNanos: 1_000)
        #expect((0..<100).allSatisfy { quiet.startedAsync(route: 0, now: 1_000_000 * us + UInt64($0) * 2_000 * us).measure })
    }

    @Test func requestsRecordedOnTwoLoopsMergeIntoOneDistribution() {
        let loops = [LoopTally(routeCount: 1, heldThresholdNanos: 1_000), LoopTally(routeCount: 1, heldThresholdNanos: 1_000)]
        let stats = RouteStats(route: 0)
        for v in 1...1000 { record(loops[0], micros: UInt64(v)) }
        for v in 1001...2000 { record(loops[1], micros: UInt64(v), status: v > 1990 ? 503 : 200) }
        stats.rollover(from: loops)
        let counters = loops.map { $0.counters()[0] }.reduce(.zero, +)
        let f = stats.figures(method: "GET", path: "/x", model: .loop, counters: counters)
        #expect(f.requests == 2000)
        #expect(f.status.s2xx == 1990 && f.status.s5xx == 10)
        #expect(f.latency.last1s.count == 2000)
        #expect(abs(Double(f.latency.last1s.p50) - 1000) <= 1)
        #expect(f.latency.last1s.max >= 2000 && f.latency.last1s.max <= 2002)
        #expect(f.rate1s == 2000)
        #expect(f.held.count == 2000)
        #expect(f.compute.wallMicros == 2)

        // The next second is empty; the ten-second window still holds both loops' requests.
        stats.rollover(from: loops)
        let g = stats.figures(method: "GET", path: "/x", model: .loop, counters: counters)
        #expect(g.latency.last1s.count == 0)
        #expect(g.latency.last10s.count == 2000)
        #expect(g.rate10s == 1000)
    }

    @Test func inFlightCountsRequestsBetweenStartAndResponse() {
        let tally = LoopTally(routeCount: 2, heldThresholdNanos: 1_000)
        _ = tally.started(route: 0)
        _ = tally.started(route: 1)
        _ = tally.started(route: 1)
        #expect(tally.inFlight == 3)
        tally.finished(route: 1, status: 200, record: nil)
        #expect(tally.inFlight == 2)
        #expect(tally.counters()[1].inFlight == 1)
        #expect(tally.counters()[1].requests == 1)
    }

    @Test func theFirstStageOfARouteReadsCPUTimeThenOneInEight() {
        let tally = LoopTally(routeCount: 2, heldThresholdNanos: 1_000)
        let first = (0..<16).map { _ in tally.started(route: 0) }
        #expect(first[0])
        #expect(first.filter { $0 }.count == 2)
        #expect(tally.started(route: 1))
    }

    @Test func stagesShorterThan50MicrosecondsReadCPUTimeOneInSixtyFour() {
        let tally = LoopTally(routeCount: 1, heldThresholdNanos: 1_000)
        #expect(tally.started(route: 0))
        tally.finished(route: 0, status: 200, record: RequestRecord(status: 200, latencyNanos: 30_000, computeNanos: 10_000))
        let next = (0..<127).map { _ in tally.started(route: 0) }
        #expect(next.filter { $0 }.count == 1)
        tally.finished(route: 0, status: 200, record: RequestRecord(status: 200, latencyNanos: 9_000_000, computeNanos: 5_000_000))
        #expect((0..<8).map { _ in tally.started(route: 0) }.filter { $0 }.count == 1)
    }
}
