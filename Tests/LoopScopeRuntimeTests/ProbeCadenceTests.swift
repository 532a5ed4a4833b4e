import Testing
@testable import LoopScopeAgent

@Suite struct ProbeCadenceTests {
    let ms: UInt64 = 1_000_000
    func cadence() -> ProbeCadence { ProbeCadence(fastNanos: 5 * ms, quietNanos: 50 * ms) }

    @Test func aQuietExecutorIsProbedAtTheQuietInterval() {
        var c = cadence()
        var cpu: Int64 = 0
        var sent = 0
        // One second of 20 ms looks; each probe costs its executor 60 µs (within the allowance).
        for t in stride(from: UInt64(0), to: 1_000 * ms, by: Int(20 * ms)) {
            c.look(now: t, cpuNanos: cpu, busy: false)
            if c.due(now: t) { c.sent(now: t); sent += 1; cpu += 60_000 }
        }
        #expect(!c.active(now: 1_000 * ms))
        // Quiet probes ride on the looks: the look before one is due, within half a look.
        #expect((24...26).contains(sent), "\(sent) probes")
        #expect(c.wake(now: 1_000 * ms) == nil, "a quiet executor does not wake the watchdog")
    }

    @Test func cpuUseMakesItActiveForTwoSecondsAfter() {
        var c = cadence()
        c.look(now: 0, cpuNanos: 0, busy: false)
        c.sent(now: 0)
        // 3 % of a core over 20 ms, beyond the one probe's allowance.
        c.look(now: 20 * ms, cpuNanos: 100_000 + 600_000, busy: false)
        #expect(c.active(now: 20 * ms))
        #expect(c.nextSend(now: 20 * ms) == 5 * ms)
        // Quiet from then on: still active until two seconds have passed.
        c.look(now: 1_000 * ms, cpuNanos: 700_000, busy: false)
        #expect(c.active(now: 1_000 * ms))
        c.look(now: 2_100 * ms, cpuNanos: 700_000, busy: false)
        #expect(!c.active(now: 2_100 * ms))
    }

    @Test func theShareIsJudgedOverTenMillisecondsAtLeast() {
        var c = cadence()
        c.look(now: 0, cpuNanos: 0, busy: false)
        // 300 µs within 1 ms would be 30 %, but it is 1.5 % of the 20 ms window it falls in.
        c.look(now: 1 * ms, cpuNanos: 300_000, busy: false)
        c.look(now: 20 * ms, cpuNanos: 300_000, busy: false)
        #expect(!c.active(now: 20 * ms))
    }

    @Test func busyIsActiveAndUnknownCPUIsNot() {
        var c = cadence()
        c.look(now: 0, cpuNanos: nil, busy: true)
        #expect(c.active(now: 0))
        c.look(now: 20 * ms, cpuNanos: nil, busy: false)
        #expect(!c.active(now: 20 * ms))
        // A thread gone (CPU time going down) restarts the window instead of judging it.
        c.look(now: 40 * ms, cpuNanos: 5_000_000, busy: false)
        c.look(now: 60 * ms, cpuNanos: 1_000, busy: false)
        #expect(!c.active(now: 60 * ms))
    }

    @Test func probesDueWithinASlackGoTogether() {
        var c = cadence()
        c.look(now: 0, cpuNanos: nil, busy: true)
        c.sent(now: 0)
        #expect(!c.due(now: 3 * ms))
        #expect(c.due(now: 4 * ms + 500_000), "due at 5 ms, within the 1 ms slack")
        #expect(c.wake(now: 3 * ms) == 5 * ms)
    }
}
