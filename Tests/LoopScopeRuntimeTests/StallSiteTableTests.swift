import Testing
@testable import LoopScopeRuntime
@testable import LoopScopeAgent
import LoopScopeWire

@Suite struct StallSiteTableTests {
    func sample(_ f: String, ms: UInt64, stall: UInt64, state: StallState = .running) -> StallSample {
        StallSample(function: f, frames: [f], state: state, syscall: state == .blocked ? "read" : nil, route: "/r",
                    chargedNanos: ms * 1_000_000, stallID: stall, stallNanos: ms * 1_000_000)
    }

    @Test func longStallsWeighByDurationAndCountOnce() {
        var t = StallSiteTable()
        for _ in 0..<10 { t.record(sample("slow()", ms: 4, stall: 1), second: 100, wallTime: 1) }
        t.record(sample("quick()", ms: 12, stall: 2), second: 100, wallTime: 2)
        let sites = t.sites(second: 100)
        #expect(sites.map(\.function) == ["slow()", "quick()"])
        #expect(sites[0].total == StallTotals(micros: 40_000, stalls: 1))
        #expect(sites[0].last60s == StallTotals(micros: 40_000, stalls: 1))
        #expect(sites[1].lastSeen == 2)
    }

    @Test func theLastMinuteForgetsOlderSecondsButTheTotalKeepsThem() {
        var t = StallSiteTable()
        t.record(sample("old()", ms: 50, stall: 1), second: 10, wallTime: 0)
        t.record(sample("new()", ms: 5, stall: 2), second: 80, wallTime: 0)
        let sites = t.sites(second: 80)
        #expect(sites.map(\.function) == ["new()", "old()"])
        #expect(sites[1].last60s == StallTotals())
        #expect(sites[1].total.micros == 50_000)
    }

    @Test func memoryIsBoundedAndTheRestIsCounted() {
        var t = StallSiteTable(capacity: 4)
        for i in 0..<10 { t.record(sample("f\(i)()", ms: UInt64(i + 1), stall: UInt64(i)), second: 1, wallTime: 0) }
        #expect(t.sites(second: 1, kept: 3).map(\.function) == ["f9()", "f8()", "f7()"])
        #expect(t.omittedCount(kept: 3) == 6 + 1)
    }

    @Test func runningAndBlockedAtOneFunctionAreDifferentSites() {
        var t = StallSiteTable()
        t.record(sample("f()", ms: 1, stall: 1), second: 1, wallTime: 0)
        t.record(sample("f()", ms: 1, stall: 1, state: .blocked), second: 1, wallTime: 0)
        #expect(t.sites(second: 1).count == 2)
    }
}
