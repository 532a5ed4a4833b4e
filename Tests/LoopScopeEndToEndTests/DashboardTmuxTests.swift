import Foundation
import Testing
import NIOCore
import NIOPosix
import LoopScopeClient
import LoopScopeDemo

/// The real dashboard in tmux against a real server under load, driven by keys like a person.
@Suite(.serialized) struct DashboardTmuxTests {
    final class Tmux {
        let session = "ls-e2e-\(getpid())-\(UUID().uuidString.prefix(6))"
        let tmux: String

        init?() {
            guard let t = Binaries.which("tmux") else { return nil }
            tmux = t
        }

        func start(_ command: String, columns: Int = 100, rows: Int = 30) throws {
            // Through sh: the tmux client that forks the tmux server is reaped by sh, and the
            // server holds no pipe of ours (its output goes to /dev/null).
            let inner = "env LANG=C.UTF-8 TERM=tmux-256color \(command); echo EXIT=$?; sleep 30"
            try Binaries.launch("/bin/sh", ["-c", "\(tmux) new-session -d -s \(session) -x \(columns) -y \(rows) '\(inner)'"])
        }

        func keys(_ keys: String...) throws { try Binaries.launch(tmux, ["send-keys", "-t", session] + keys) }

        func screen() throws -> String { try Binaries.run(tmux, ["capture-pane", "-p", "-t", session]).output }

        /// Polls the screen every `interval` seconds until `predicate` holds, up to `seconds`.
        func waitFor(_ seconds: Double = 10, every interval: Double = 0.1, _ predicate: (String) -> Bool) throws -> String {
            let deadline = Date().addingTimeInterval(seconds)
            var last = ""
            while Date() < deadline {
                last = try screen()
                if predicate(last) { return last }
                usleep(UInt32(interval * 1_000_000))
            }
            return last
        }

        /// Ends the session and anything still running in it.
        func kill() {
            let panes = (try? Binaries.run(tmux, ["list-panes", "-t", session, "-F", "#{pane_pid}"]).output) ?? ""
            _ = try? Binaries.launch(tmux, ["kill-session", "-t", session])
            for pid in panes.split(separator: "\n").compactMap({ Int32($0) }) {
                _ = try? Binaries.run("/usr/bin/pkill", ["-9", "-P", "\(pid)"])
            }
        }
    }

    @Test func anOperatorMovesHashOffTheLoopAndGrowsAPoolFromTheKeyboard() async throws {
        guard let tmux = Tmux() else {
            Issue.record("tmux is missing (installed by .ci/run)")
            return
        }
        let server = try ServerProcess()
        defer { server.terminate(); tmux.kill() }
        // Load: /hash and /hello, closed loop, for the length of the test.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let load = Task {
            let c = try await HTTPClientConnection.connect(host: "127.0.0.1", port: server.port, group: group).get()
            while !Task.isCancelled {
                _ = try await c.get("/hash").get()
                _ = try await c.get("/hello").get()
            }
        }
        defer { load.cancel() }

        try tmux.start("\(Binaries.loopscope) attach --control-dir \(server.controlDir)")
        var screen = try tmux.waitFor { $0.contains("live 10 Hz") && $0.contains("/hash") && $0.contains("cpu") }
        #expect(screen.contains("EVENT LOOPS"))
        #expect(screen.contains("loop 0"))
        let hashLine = screen.split(separator: "\n").first { $0.contains("/hash ") }.map(String.init) ?? ""
        #expect(hashLine.contains("loop"))

        // Routes sort by name: /db, /fanout, /fanout-serial, /hash… — step down to /hash.
        for next in ["/fanout ", "/fanout-serial", "/hash"] {
            try tmux.keys("j")
            _ = try tmux.waitFor(3) { $0.contains(">" + next) }
        }
        screen = try tmux.waitFor(3) { $0.contains(">/hash") }
        #expect(screen.contains(">/hash"))
        try tmux.keys("3")
        screen = try tmux.waitFor(5) { $0.contains("route /hash loop → threads") }
        #expect(screen.contains("route /hash loop → threads"))
        // The route's own row (the status line also names /hash and threads).
        screen = try tmux.waitFor(5) { s in s.split(separator: "\n").contains { $0.contains(">/hash") && $0.contains("threads") } }
        #expect(screen.split(separator: "\n").contains { $0.contains(">/hash") && $0.contains("threads") })

        // Tab to the pools, grow the thread pool by one.
        let client = try await ControlClient.connect(path: try #require(server.socketPath))
        let before = try await client.snapshot().pool("threads")!.size
        try tmux.keys("Tab", "+")
        screen = try tmux.waitFor(5) { $0.contains("resize threads \(before) → \(before + 1)") }
        #expect(screen.contains("resize threads \(before) → \(before + 1)"))

        // What the server reports agrees with the screen.
        let after = try await client.snapshot()
        #expect(after.route("/hash")?.model == .threads)
        #expect(after.pool("threads")?.size == before + 1)
        #expect(after.events.contains { $0.kind == .route && $0.subject == "/hash" && $0.new == "threads" })

        // Resizing the terminal redraws at once; q quits and restores the terminal.
        try Binaries.launch(tmux.tmux, ["resize-window", "-t", tmux.session, "-x", "60", "-y", "15"])
        screen = try tmux.waitFor(5) { $0.contains("terminal too small") }
        #expect(screen.contains("terminal too small: 60×15"))
        try tmux.keys("q")
        screen = try tmux.waitFor(5) { $0.contains("EXIT=0") }
        #expect(screen.contains("EXIT=0"))
        await client.close()
        // The load stops before its loop does: a request sent on a loop that has shut down is
        // dropped with its promise (NIO's leak check crashed a debug run here once).
        load.cancel()
        _ = await load.result
        try? await group.shutdownGracefully()
    }

    @Test func refusesToRunWithoutATerminal() throws {
        let r = try Binaries.run(Binaries.loopscope, ["attach", "/nonexistent.sock"])
        #expect(r.status != 0)
        #expect(r.output.contains("needs an interactive terminal"))
        let dumb = try Binaries.run("/usr/bin/script", ["-qec", "env TERM=dumb \(Binaries.loopscope) attach /nonexistent.sock", "/dev/null"])
        #expect(dumb.output.contains("TERM is 'dumb'"))
    }

    @Test func theDashboardSaysWhenTheServerIsGoneAndReconnects() async throws {
        guard let tmux = Tmux() else {
            Issue.record("tmux is missing (installed by .ci/run)")
            return
        }
        let first = try ServerProcess()
        defer { first.terminate(); tmux.kill() }
        try tmux.start("\(Binaries.loopscope) attach e2e --control-dir \(first.controlDir)")
        var screen = try tmux.waitFor { $0.contains("live 10 Hz") }
        #expect(screen.contains("e2e pid \(first.process.processIdentifier)"))
        first.process.terminate()
        first.process.waitUntilExit()
        screen = try tmux.waitFor(5) { $0.contains("reconnecting in") }
        #expect(screen.contains("server gone: reconnecting in"))
        #expect(screen.contains("/hash"), "the last data stays on screen")
        // A new server with the same name in the same directory: the dashboard finds it.
        let second = try ServerProcess(directory: first.controlDir)
        defer { second.terminate() }
        screen = try tmux.waitFor(15) { $0.contains("e2e pid \(second.process.processIdentifier)") && $0.contains("live 10 Hz") }
        #expect(screen.contains("e2e pid \(second.process.processIdentifier)"))
    }
}
