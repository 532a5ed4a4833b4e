import Foundation
import Testing
import LoopScopeWire

/// `serve --workers 2`: two processes behind one port, announced as one group; a worker
/// killed hard is back within a second; SIGTERM stops them all.
@Suite(.serialized) struct WorkersTests {
    @Test func twoWorkersShareThePortAndAKilledOneIsRestartedWithinASecond() throws {
        let server = try ServerProcess(extra: ["--workers", "2"])
        defer { server.terminate() }
        let group = "e2e/\(server.process.processIdentifier)"
        func members() -> [Int: Int32] {
            Dictionary(SocketDirectory.list(server.controlDir).compactMap { a in a.member.flatMap { $0.group == group ? ($0.worker, a.pid) : nil } },
                       uniquingKeysWith: { a, _ in a })
        }
        #expect(poll(seconds: 20) { members().count == 2 }, "members: \(members())")
        // New connections spread over both processes (the kernel hashes them across the listeners).
        var pids = Set<String>()
        for _ in 0..<24 {
            let (status, body) = try get(port: server.port, "/where")
            #expect(status == 200)
            if let pid = body.split(separator: " ").first { pids.insert(String(pid)) }
        }
        #expect(pids.count == 2, "answered by \(pids)")

        let before = try #require(members()[0])
        kill(before, SIGKILL)
        let started = Date()
        #expect(poll(seconds: 5) { members()[0].map { $0 != before } ?? false }, "worker 0 not restarted: \(members())")
        #expect(Date().timeIntervalSince(started) < 1.5, "restarted after \(Date().timeIntervalSince(started)) s")
        #expect(poll(seconds: 5) { (try? get(port: server.port, "/hello").status) == 200 })
        for _ in 0..<10 { #expect(try get(port: server.port, "/hello").status == 200) }

        // ctl fans a command out to every worker of the group, one line each.
        let (status, output) = try Binaries.run(Binaries.loopscope, ["ctl", "resize", "--group", group, "--control-dir", server.controlDir, "threads", "3"])
        #expect(status == 0, "\(output)")
        #expect(output.split(separator: "\n").filter { $0.contains("resize threads") }.count == 2, "\(output)")
        for pid in members().values {
            let (_, dump) = try Binaries.run(Binaries.loopscope, ["dump", "--server", "\(pid)", "--control-dir", server.controlDir, "--format", "json"])
            let snapshot = try JSONDecoder().decode(Snapshot.self, from: Data(dump.utf8))
            #expect(snapshot.pool("threads")?.size == 3, "worker \(pid) not resized")
        }
        // dump --group: every worker's snapshot, each saying which worker it is.
        let (dumped, lines) = try Binaries.run(Binaries.loopscope, ["dump", "--group", group, "--control-dir", server.controlDir, "--format", "ndjson"])
        #expect(dumped == 0, "\(lines)")
        let workersDumped = try lines.split(separator: "\n").map { try JSONDecoder().decode(Snapshot.self, from: Data($0.utf8)).server.member?.worker }
        #expect(Set(workersDumped.compactMap { $0 }) == [0, 1], "\(workersDumped)")
        // record --group: merged snapshots of the group, for attach --replay.
        let recording = server.controlDir + "/group.ndjson"
        let (recorded, recordOutput) = try Binaries.run(Binaries.loopscope, ["record", "--group", group, "--control-dir", server.controlDir, "-o", recording, "--every", "200ms", "--count", "8"])
        #expect(recorded == 0, "\(recordOutput)")
        let frames = try String(contentsOfFile: recording, encoding: .utf8).split(separator: "\n").map { try JSONDecoder().decode(Snapshot.self, from: Data($0.utf8)) }
        #expect(frames.count == 8)
        // Once both workers stream (the first frames may come before one of them has).
        #expect(frames.contains { Set($0.loops.map(\.name)).isSuperset(of: ["w0 loop 0", "w1 loop 0"]) }, "\(frames.last?.loops.map(\.name) ?? [])")
        let (unknown, message) = try Binaries.run(Binaries.loopscope, ["ctl", "resize", "--group", "nope/1", "--control-dir", server.controlDir, "threads", "3"])
        #expect(unknown != 0 && message.contains("groups: \(group)"), "\(message)")

        let workers = members().values
        server.process.terminate()
        server.process.waitUntilExit()
        #expect(server.process.terminationStatus == 0)
        for pid in workers { #expect(kill(pid, 0) != 0, "worker \(pid) outlived its supervisor") }
    }

    /// Real traffic through SO_REUSEPORT: one keep-alive connection lands on one worker for
    /// good, however many requests it carries; the merged view says so.
    @Test func oneLongLivedConnectionLoadsOneWorkerAndTheGroupSaysItIsImbalanced() throws {
        let server = try ServerProcess(extra: ["--workers", "2"])
        defer { server.terminate() }
        let group = "e2e/\(server.process.processIdentifier)"
        func diagnoses() throws -> [Diagnosis] {
            let (status, out) = try Binaries.run(Binaries.loopscope, ["dump", "--group", group, "--merged", "--control-dir", server.controlDir, "--format", "json"])
            guard status == 0 else { return [] }
            return try JSONDecoder().decode(Snapshot.self, from: Data(out.utf8)).diagnoses
        }
        #expect(poll(seconds: 20) { SocketDirectory.list(server.controlDir).filter { $0.member?.group == group }.count == 2 })
        let load = Process()
        load.executableURL = URL(fileURLWithPath: Binaries.loopscope)
        load.arguments = ["load", "--target", "127.0.0.1:\(server.port)", "--mix", "/hello", "--rate", "150", "--connections", "1", "--duration", "20s", "--quiet"]
        load.standardOutput = FileHandle.nullDevice
        load.standardError = FileHandle.nullDevice
        try load.run()
        defer { load.terminate(); load.waitUntilExit() }
        var found: Diagnosis?
        _ = poll(seconds: 25) { found = (try? diagnoses())?.first { $0.id == "group-imbalance" }; return found != nil }
        let seen = (try? diagnoses().map(\.id)) ?? []
        let d = try #require(found, "no group-imbalance: \(seen)")
        #expect(d.summary.contains("serves 100 %") || d.summary.contains("serves 99 %"), "\(d.summary)")
        #expect(d.evidence.contains { $0.hasSuffix(" 0 req/s") }, "\(d.evidence)")
    }

    @Test func workersThatCannotStartAreACrashLoopAndTheSupervisorExitsNonZero() throws {
        // A listener without SO_REUSEPORT holds the port: every worker's bind fails.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && listen(fd, 1) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        try #require(bound)
        let port = Int(UInt16(bigEndian: addr.sin_port))
        let dir = NSTemporaryDirectory() + "ls-e2e-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let started = Date()
        let (status, output) = try Binaries.run(Binaries.loopscope, ["serve", "--workers", "2", "--port", "\(port)", "--upstream-port", "0", "--control-dir", dir])
        #expect(status == 1, "\(output)")
        #expect(output.contains("giving up") && output.contains("crash loop"), "\(output)")
        #expect(Date().timeIntervalSince(started) < 20)
    }

    @Test func theWorkerCountIsValidated() throws {
        let (status, output) = try Binaries.run(Binaries.loopscope, ["serve", "--workers", "0"])
        #expect(status != 0)
        #expect(output.contains("--workers must be 1...64"))
    }

    /// Polls `condition` every 50 ms for up to `seconds`.
    func poll(seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(50_000)
        }
        return condition()
    }

    /// One GET on a new connection (curl, 5 s timeout): status and body.
    func get(port: Int, _ path: String) throws -> (status: Int, body: String) {
        let (_, out) = try Binaries.run("/usr/bin/curl", ["-s", "--max-time", "5", "-w", "\n%{http_code}", "http://127.0.0.1:\(port)\(path)"])
        let lines = out.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }
}
