import Testing
@testable import LoopScopeAgent
import LoopScopeWire

/// A second an executor spends stalled answers no probe; its lag must not read as none.
@Suite struct StalledSecondLagTests {
    private func stats() -> ExecutorStats {
        ExecutorStats(name: "loop 0", routeCount: 1, stallThresholdNanos: 10_000_000, heldThresholdNanos: 1_000_000)
    }

    @Test func aProbeStillWaitingAtTheEndOfASecondIsThatSecondsLag() {
        let s = stats()
        let now: UInt64 = 100_000_000_000
        // The probe was sent 800 ms ago and has not run: the loop is stuck.
        s.probePendingSince.store(now - 800_000_000, ordering: .relaxed)
        s.rollover(now: now)
        let lag = s.figures(routeName: { _ in "" }, stall: nil, second: 0).lag.last1s
        #expect(lag.count == 1)
        #expect(lag.p99 >= 790_000 && lag.p99 <= 810_000, "\(lag.p99) µs")
        // Still stuck a second later: that second reads the longer wait.
        s.rollover(now: now + 1_000_000_000)
        #expect(s.figures(routeName: { _ in "" }, stall: nil, second: 1).lag.last1s.p99 >= 1_790_000)
        #expect(s.figures(routeName: { _ in "" }, stall: nil, second: 1).stalls == 0, "the probe counts the stall when it runs")
    }

    @Test func aProbeJustSentOrNoneWaitingAddsNoSample() {
        let s = stats()
        let now: UInt64 = 100_000_000_000
        s.rollover(now: now)
        #expect(s.figures(routeName: { _ in "" }, stall: nil, second: 0).lag.last1s.count == 0)
        s.probePendingSince.store(now + 1_000_000_000 - 500_000, ordering: .relaxed)
        s.rollover(now: now + 1_000_000_000)
        #expect(s.figures(routeName: { _ in "" }, stall: nil, second: 1).lag.last1s.count == 0, "a probe waiting 0.5 ms is in flight, not lag")
    }
}
