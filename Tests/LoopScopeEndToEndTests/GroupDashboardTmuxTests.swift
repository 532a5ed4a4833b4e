import Foundation
import Testing
import LoopScopeWire

/// `attach --group` in tmux over a real `serve --workers 2`: both workers merged and each
/// apart, a stopped worker shown not answering while the other streams on, and a worker
/// killed hard shown restarting, then back under its new pid.
@Suite(.serialized) struct GroupDashboardTmuxTests {
    @Test func theGroupDashboardShowsBothWorkersAStoppedOneNotAnsweringAndAKilledOneRestarting() throws {
        guard let tmux = DashboardTmuxTests.Tmux() else {
            Issue.record("tmux is missing (installed by .ci/run)")
            return
        }
        let server = try ServerProcess(extra: ["--workers", "2"])
        defer { server.terminate(); tmux.kill() }
        let group = "e2e/\(server.process.processIdentifier)"
        let workers = WorkersTests()
        func members() -> [Int: Int32] {
            Dictionary(SocketDirectory.list(server.controlDir).compactMap { a in a.member.flatMap { $0.group == group ? ($0.worker, a.pid) : nil } },
                       uniquingKeysWith: { a, _ in a })
        }
        #expect(workers.poll(seconds: 20) { members().count == 2 }, "members: \(members())")
        let pids = members()
        let (p0, p1) = (try #require(pids[0]), try #require(pids[1]))

        // Requests on new connections land on both workers; the merged dump counts them all.
        for _ in 0..<24 { #expect(try workers.get(port: server.port, "/hello").status == 200) }
        func dumped(_ args: [String]) -> Snapshot? {
            guard let (status, out) = try? Binaries.run(Binaries.loopscope, ["dump", "--control-dir", server.controlDir, "--format", "json"] + args), status == 0 else { return nil }
            return try? JSONDecoder().decode(Snapshot.self, from: Data(out.utf8))
        }
        #expect(workers.poll(seconds: 5) { dumped(["--group", group, "--merged"])?.route("/hello")?.requests == 24 },
                "merged /hello: \(String(describing: dumped(["--group", group, "--merged"])?.route("/hello")?.requests))")
        let each = [p0, p1].compactMap { dumped(["--server", "\($0)"])?.route("/hello")?.requests }
        #expect(each.count == 2 && each.allSatisfy { $0 > 0 } && each.reduce(0, +) == 24, "per worker: \(each)")

        try tmux.start("\(Binaries.loopscope) attach --group \(group) --control-dir \(server.controlDir)", columns: 100, rows: 30)
        var screen = try tmux.waitFor(15) {
            $0.contains("group \(group): all 2 workers") && $0.contains("w0 loop 0") && $0.contains("w1 loop 0")
                && $0.contains("w0 pid \(p0) up") && $0.contains("w1 pid \(p1) up")
        }
        #expect(screen.contains("group \(group): all 2 workers"), "\(screen)")
        #expect(screen.contains("w0 loop 0") && screen.contains("w1 loop 0") && screen.contains("all tasks"), "\(screen)")
        #expect(screen.contains("w0 pid \(p0) up  w1 pid \(p1) up"), "\(screen)")

        // v: each worker apart, then the group again.
        try tmux.keys("v")
        screen = try tmux.waitFor(5) { $0.contains("group \(group): w0 pid \(p0)") && $0.contains("  loop 0 ") && !$0.contains("w1 loop 0") }
        #expect(screen.contains("group \(group): w0 pid \(p0)") && !screen.contains("w1 loop 0"), "\(screen)")
        try tmux.keys("v")
        screen = try tmux.waitFor(5) { $0.contains("group \(group): w1 pid \(p1)") }
        #expect(screen.contains("group \(group): w1 pid \(p1)"), "\(screen)")
        try tmux.keys("v")
        screen = try tmux.waitFor(5) { $0.contains("group \(group): all 2 workers") }
        #expect(screen.contains("group \(group): all 2 workers"), "\(screen)")

        // A worker that stops answering (SIGSTOP) freezes nothing: it is shown not answering
        // while the other keeps streaming, and is back when it runs again.
        kill(p0, SIGSTOP)
        var stopped = true
        defer { if stopped { kill(p0, SIGCONT) } }
        screen = try tmux.waitFor(10) { $0.contains("w0 pid \(p0) no answer") && $0.contains("w1 pid \(p1) up") }
        #expect(screen.contains("w0 pid \(p0) no answer") && screen.contains("w1 pid \(p1) up"), "\(screen)")
        screen = try tmux.waitFor(5) { $0.contains("w0 pid \(p0) no answer 4 s") }
        #expect(screen.contains("w1 pid \(p1) up") && !screen.contains("w0 restarting"), "a stopped worker runs: \(screen)")
        kill(p0, SIGCONT)
        stopped = false
        screen = try tmux.waitFor(15) { $0.contains("w0 pid \(p0) up  w1 pid \(p1) up") }
        #expect(screen.contains("w0 pid \(p0) up  w1 pid \(p1) up"), "\(screen)")

        // kill -9 of worker 1: shown restarting (never dropped), then back under its new pid.
        kill(p1, SIGKILL)
        screen = try tmux.waitFor(5, every: 0.02) { $0.contains("w1 restarting (no answer") }
        #expect(screen.contains("w1 restarting (no answer"), "\(screen)")
        #expect(workers.poll(seconds: 5) { members()[1].map { $0 != p1 } ?? false }, "worker 1 not restarted: \(members())")
        let successor = try #require(members()[1])
        screen = try tmux.waitFor(10) { $0.contains("w0 pid \(p0) up  w1 pid \(successor) up") && $0.contains("w1 loop 0") }
        #expect(screen.contains("w0 pid \(p0) up  w1 pid \(successor) up"), "\(screen)")

        try tmux.keys("q")
        screen = try tmux.waitFor(5) { $0.contains("EXIT=0") }
        #expect(screen.contains("EXIT=0"))
    }
}
