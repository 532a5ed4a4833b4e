import Testing
import LoopScopeRuntime

@Suite struct RestartPolicyTests {
    @Test func aWorkerIsRestartedAtOnceThenWithDoublingBackoffAndACrashLoopGivesUp() {
        var p = RestartPolicy()
        #expect(p.exited(worker: 0, at: 0) == .restart(afterSeconds: 0.1))
        #expect(p.exited(worker: 0, at: 1) == .restart(afterSeconds: 0.2))
        #expect(p.exited(worker: 1, at: 1) == .restart(afterSeconds: 0.1), "each worker counts its own exits")
        #expect(p.exited(worker: 0, at: 2) == .restart(afterSeconds: 0.4))
        #expect(p.exited(worker: 0, at: 3) == .restart(afterSeconds: 0.8))
        #expect(p.exited(worker: 0, at: 4) == .restart(afterSeconds: 1.6))
        guard case .giveUp(let why) = p.exited(worker: 0, at: 5) else { Issue.record("six exits in a minute is a crash loop"); return }
        #expect(why.contains("worker 0 exited 6 times"))
    }

    @Test func exitsOlderThanTheWindowAreForgiven() {
        var p = RestartPolicy()
        for t in 0..<5 { _ = p.exited(worker: 0, at: Double(t)) }
        #expect(p.exited(worker: 0, at: 100) == .restart(afterSeconds: 0.1))
    }

    @Test func theBackoffIsCapped() {
        var p = RestartPolicy()
        p.maxExits = 100
        var last = RestartPolicy.Decision.restart(afterSeconds: 0)
        for t in 0..<20 { last = p.exited(worker: 0, at: Double(t)) }
        #expect(last == .restart(afterSeconds: 5))
    }
}
