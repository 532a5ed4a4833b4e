import CLoopScopeSys
import Testing
@testable import LoopScopeAgent
import LoopScopeWire

/// `selfCost.statisticsBytes` is summed from the statistics' own structures; this checks that
/// sum against what the allocator handed out for them.
@Suite(.serialized) struct StatisticsMemoryTests {
    private static func allocated() -> Int { Int(loopscope_allocated_bytes()) }

    @Test func theStatisticsFigureIsWithinAFifthOfWhatTheAllocatorHandedOut() {
        let routeCount = 4
        let before = Self.allocated()
        let tallies = (0..<2).map { _ in LoopTally(routeCount: routeCount, heldThresholdNanos: 1_000) }
        let routes = (0..<routeCount).map { RouteStats(route: $0) }
        let loops = (0..<2).map { ExecutorStats(name: "loop \($0)", routeCount: routeCount, stallThresholdNanos: 10_000_000, heldThresholdNanos: 1_000) }
        var x: UInt64 = 7
        // A minute of traffic: every route's latencies spread over the whole range, each second.
        for second in 0..<62 {
            for (t, tally) in tallies.enumerated() {
                for route in 0..<routeCount {
                    for _ in 0..<20 {
                        x = x &* 6364136223846793005 &+ 1442695040888963407
                        let micros = 1 + (x >> 20) % 5_000_000
                        _ = tally.started(route: route)
                        _ = tally.finished(route: route, status: 200, record: RequestRecord(status: 200, latencyNanos: micros * 1000, heldNanos: 2_000))
                        loops[t].recordHeld(route: route, nanos: 2_000)
                    }
                }
                loops[t].recordLag(nanos: 1_000 + UInt64(second) * 1_000)
            }
            for route in routes { route.rollover(from: tallies) }
            for loop in loops { loop.rollover() }
        }
        let measured = Self.allocated() - before
        let reported = routes.reduce(0) { $0 + $1.footprintBytes } + tallies.reduce(0) { $0 + $1.footprintBytes }
            + loops.reduce(0) { $0 + $1.footprintBytes }
        print("statistics memory: reported \(reported) bytes, allocator \(measured)")
        withExtendedLifetime((tallies, routes, loops)) {
            #expect(measured > 1_000_000, "the structures hold megabytes: \(measured)")
            #expect(abs(reported - measured) <= measured / 5, "reported \(reported) bytes, the allocator handed out \(measured)")
        }
    }
}
