import Foundation
import Testing
import NIOCore
import NIOPosix
import LoopScopeClient
import LoopScopeDemo
import LoopScopeWire

@Suite(.serialized) struct ControlSocketTests {
    @Test func twoSubscribersSeeAThirdClientsChangesInTheirNextFrame() async throws {
        let server = try ServerProcess()
        defer { server.terminate() }
        let path = try #require(server.socketPath)
        let a = try await ControlClient.connect(path: path)
        let b = try await ControlClient.connect(path: path)
        let streamA = try await a.subscribe(intervalMs: 100)
        let streamB = try await b.subscribe(intervalMs: 100)
        var itA = streamA.makeAsyncIterator()
        var itB = streamB.makeAsyncIterator()
        _ = await itA.next()
        _ = await itB.next()

        let c = try await ControlClient.connect(path: path)
        let t0 = Date()
        let reply = try await c.send(.route(method: "GET", path: "/hash", model: .threads))
        #expect(reply.message == "route /hash loop → threads")
        try await c.send(.resize(pool: "threads", size: 5))
        let immediate = try await c.snapshot()
        let elapsedMs = Date().timeIntervalSince(t0) * 1000
        #expect(immediate.route("/hash")?.model == .threads)
        #expect(immediate.pool("threads")?.size == 5)
        print("command → visible in a snapshot: \(Int(elapsedMs)) ms")

        for it in [itA, itB] {
            var iterator = it
            let frame = try #require(await iterator.next())
            #expect(frame.snapshot.route("/hash")?.model == .threads)
            #expect(frame.snapshot.pool("threads")?.size == 5)
            #expect(frame.snapshot.events.contains { $0.kind == .route && $0.subject == "/hash" && $0.actor.hasPrefix("pid ") })
        }
        await a.close(); await b.close(); await c.close()
    }

    @Test func aQuietServerSendsUnchangedLinesBetweenFramesAndTheClientRebuildsThem() async throws {
        let server = try ServerProcess()
        defer { server.terminate() }
        let path = try #require(server.socketPath)
        // On the wire: whole frames, and short `unchanged` lines between them while nothing moves
        // (an idle server's figures move when its statistics roll over, once a second).
        let conn = try LineSocket(path: path)
        _ = try conn.readLine()
        try conn.send(#"{"id":1,"op":"hello","versions":[1]}"#)
        _ = try conn.readLine()
        try conn.send(#"{"id":2,"op":"subscribe","intervalMs":100,"skipUnchanged":true}"#)
        #expect(try conn.readJSON()["ok"] as? Bool == true)
        var whole = 0, unchanged = 0, sequences: [Int] = []
        let deadline = Date().addingTimeInterval(10)
        while (whole < 2 || unchanged < 5), Date() < deadline {
            let line = try conn.readJSON()
            if let f = line["frame"] as? [String: Any], let s = f["snapshot"] as? [String: Any] {
                whole += 1
                sequences.append(try #require(s["sequence"] as? Int))
            } else if let u = line["unchanged"] as? [String: Any] {
                #expect(whole > 0, "an unchanged line comes only after a whole frame")
                #expect(u["subscription"] as? Int == 1 && u["time"] is Double && u["selfCost"] is [String: Any], "\(u)")
                unchanged += 1
                sequences.append(try #require(u["sequence"] as? Int))
            }
        }
        #expect(whole >= 2 && unchanged >= 5, "\(whole) whole frames, \(unchanged) unchanged lines")
        #expect(sequences == sequences.sorted() && Set(sequences).count == sequences.count, "\(sequences)")

        // Through the client the stream is the same as without: every frame whole, and a
        // change shows in the next one.
        let client = try await ControlClient.connect(path: path)
        var frames = try await client.subscribe(intervalMs: 100).makeAsyncIterator()
        var last = try #require(await frames.next())
        for _ in 0..<12 {
            let next = try #require(await frames.next())
            #expect(next.snapshot.sequence > last.snapshot.sequence && next.snapshot.time > last.snapshot.time)
            #expect(next.snapshot.routes.map(\.path) == last.snapshot.routes.map(\.path))
            last = next
        }
        let other = try await ControlClient.connect(path: path)
        try await other.send(.resize(pool: "threads", size: 3))
        let changed = try #require(await frames.next())
        #expect(changed.snapshot.pool("threads")?.size == 3)
        await client.close(); await other.close()
    }

    static let invalidInputs: [(String, String)] = [
        ("not json at all", "invalid_json"),
        ("{\"id\":1,", "invalid_json"),
        ("[1,2,3]", "bad_request"),
        ("42", "bad_request"),
        ("{\"id\":\"seven\",\"op\":\"snapshot\"}", "bad_request"),
        ("{\"id\":true,\"op\":\"snapshot\"}", "bad_request"),
        ("{\"id\":3}", "bad_request"),
        ("{\"id\":4,\"op\":\"launch-missiles\"}", "unknown_op"),
        ("{\"id\":5,\"op\":\"route\",\"route\":\"/nope\",\"model\":\"threads\"}", "unknown_route"),
        ("{\"id\":6,\"op\":\"route\",\"route\":\"/hash\",\"model\":\"fibers\"}", "bad_request"),
        ("{\"id\":7,\"op\":\"route\",\"model\":\"threads\"}", "bad_request"),
        ("{\"id\":8,\"op\":\"route\",\"route\":\"/hash\",\"method\":\"DELETE\",\"model\":\"threads\"}", "unknown_route"),
        ("{\"id\":9,\"op\":\"resize\",\"pool\":\"threads\",\"size\":-3}", "out_of_range"),
        ("{\"id\":10,\"op\":\"resize\",\"pool\":\"threads\",\"size\":0}", "out_of_range"),
        ("{\"id\":11,\"op\":\"resize\",\"pool\":\"threads\",\"size\":100000}", "out_of_range"),
        ("{\"id\":12,\"op\":\"resize\",\"pool\":\"threads\",\"size\":\"8\"}", "bad_request"),
        ("{\"id\":13,\"op\":\"resize\",\"pool\":\"gpu\",\"size\":2}", "unknown_pool"),
        ("{\"id\":14,\"op\":\"limit\",\"pool\":\"threads\",\"limit\":0}", "out_of_range"),
        ("{\"id\":15,\"op\":\"limit\",\"pool\":\"nope\",\"limit\":10}", "unknown_pool"),
        ("{\"id\":16,\"op\":\"subscribe\",\"intervalMs\":5}", "out_of_range"),
        ("{\"id\":17,\"op\":\"subscribe\",\"intervalMs\":60000}", "out_of_range"),
        ("{\"id\":18,\"op\":\"unsubscribe\"}", "not_subscribed"),
        ("{\"id\":19,\"op\":\"fix\",\"diagnosis\":\"no-such-thing\"}", "unknown_diagnosis"),
        ("{\"id\":20,\"op\":\"hello\",\"versions\":[99]}", "unsupported_version"),
        ("{\"id\":21,\"op\":\"size\",\"pool\":3.5}", "unknown_op"),
        ("{\"id\":22,\"op\":\"resize\",\"pool\":\"threads\",\"size\":2.5}", "bad_request"),
        (String(repeating: "x", count: 70_000), "line_too_long"),
    ]

    @Test func everyInvalidInputGetsAStructuredErrorAndTheConnectionStaysUp() throws {
        let server = try ServerProcess()
        defer { server.terminate() }
        let path = try #require(server.socketPath)
        let conn = try LineSocket(path: path)
        _ = try conn.readLine() // greeting
        // Before the handshake, commands are refused.
        try conn.send("{\"id\":1,\"op\":\"snapshot\"}")
        #expect(try conn.readJSON()["error"].flatMap { ($0 as? [String: Any])?["code"] as? String } == "handshake_required")
        try conn.send("{\"id\":2,\"op\":\"hello\",\"versions\":[1]}")
        #expect(try conn.readJSON()["ok"] as? Bool == true)
        #expect(Self.invalidInputs.count >= 20)
        for (line, code) in Self.invalidInputs {
            try conn.send(line)
            let reply = try conn.readJSON()
            let error = reply["error"] as? [String: Any]
            #expect(reply["ok"] as? Bool == false, "\(line.prefix(60))")
            #expect(error?["code"] as? String == code, "\(line.prefix(60)) → \(reply)")
            #expect((error?["message"] as? String)?.isEmpty == false)
            // Still usable:
            try conn.send("{\"id\":1000,\"op\":\"events\"}")
            #expect(try conn.readJSON()["ok"] as? Bool == true)
        }
        // And HTTP traffic is unaffected.
        let (status, body) = try Binaries.run("/usr/bin/curl", ["-s", "-w", "%{http_code}", "http://127.0.0.1:\(server.port)/hello"])
        #expect(status == 0 && body.hasSuffix("200"))
    }

    @Test func aClientOfAnotherUIDIsRefused() throws {
        guard getuid() == 0, let setpriv = Binaries.which("setpriv"), let socat = Binaries.which("socat") else {
            Issue.record("needs root, setpriv and socat (installed by .ci/run)")
            return
        }
        let server = try ServerProcess()
        defer { server.terminate() }
        let path = try #require(server.socketPath)
        let asNobody = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", socat, "-T2", "-", "UNIX-CONNECT:\(path)"]
        // The directory is private: nobody cannot even reach the socket.
        let denied = try Binaries.run("/usr/bin/timeout", ["5"] + asNobody)
        #expect(denied.status != 0)
        #expect(denied.output.lowercased().contains("permission denied"))
        // Even with the file permissions opened up, the server checks the peer's uid.
        chmod(server.controlDir, 0o755)
        chmod(path, 0o777)
        let refused = try Binaries.run("/usr/bin/timeout", ["5"] + asNobody)
        #expect(refused.output.contains("\"code\":\"forbidden\""))
        #expect(refused.output.contains("uid 65534 may not use this socket"))
    }

    @Test func theControlSocketAnswersWhileTheOnlyHTTPLoopIsBlocked() async throws {
        let server = try ServerProcess(extra: ["--loops", "1"])
        defer { server.terminate() }
        let path = try #require(server.socketPath)
        let client = try await ControlClient.connect(path: path)
        let blocker = Task { try Binaries.run("/usr/bin/curl", ["-s", "http://127.0.0.1:\(server.port)/sleep?ms=2000"]) }
        try await Task.sleep(nanoseconds: 400_000_000)
        let t0 = Date()
        let snapshot = try await client.snapshot()
        let answeredIn = Date().timeIntervalSince(t0)
        #expect(answeredIn < 1.0)
        let stall = try #require(snapshot.loops[0].stallInProgress)
        #expect(stall.route == "/sleep")
        #expect(stall.heldMicros >= 300_000)
        let (_, body) = try await blocker.value
        #expect(body.contains("slept 2000 ms"))
        await client.close()
    }

    /// The pids of the process pool's two workers, once both run (the pool spawns them
    /// asynchronously).
    static func bothWorkers(_ client: ControlClient) async throws -> [Int32] {
        var workers: [Int32] = []
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, workers.count < 2 {
            workers = try await client.snapshot().pool("processes")?.workers.map(\.pid) ?? []
            if workers.count < 2 { try await Task.sleep(nanoseconds: 20_000_000) }
        }
        #expect(workers.count == 2)
        return workers
    }

    @Test func sigtermDrainsInFlightRequestsStopsWorkersAndRemovesTheSocket() async throws {
        let server = try ServerProcess()
        let path = try #require(server.socketPath)
        let client = try await ControlClient.connect(path: path)
        let workers = try await Self.bothWorkers(client)
        let slow = Task { try Binaries.run("/usr/bin/curl", ["-s", "-w", " %{http_code}", "http://127.0.0.1:\(server.port)/sleep?ms=700"]) }
        // SIGTERM once the request is in flight.
        let inFlight = Date().addingTimeInterval(10)
        while Date() < inFlight, (try await client.snapshot().route("/sleep")?.inFlight ?? 0) == 0 { try await Task.sleep(nanoseconds: 10_000_000) }
        await client.close()
        kill(server.process.processIdentifier, SIGTERM)
        let (_, out) = try await slow.value
        #expect(out.hasSuffix(" 200"))
        server.process.waitUntilExit()
        #expect(server.process.terminationStatus == 0)
        #expect(!FileManager.default.fileExists(atPath: path))
        for pid in workers { #expect(kill(pid, 0) != 0) }
        server.terminate()
    }

    /// Ctrl-C in the server's terminal sends SIGINT to every process of its foreground group,
    /// the pool's workers too: the server drains, and the job a worker is running finishes.
    @Test func ctrlCDrainsAJobRunningOnAWorker() async throws {
        let server = try ServerProcess()
        let path = try #require(server.socketPath)
        let client = try await ControlClient.connect(path: path)
        let workers = try await Self.bothWorkers(client)
        try await client.send(.route(method: "GET", path: "/report", model: .processes))
        let slow = Task { try Binaries.run("/usr/bin/curl", ["-s", "-m", "30", "-w", " %{http_code}", "http://127.0.0.1:\(server.port)/report?ms=600"]) }
        let inFlight = Date().addingTimeInterval(10)
        while Date() < inFlight, (try await client.snapshot().pool("processes")?.busy ?? 0) == 0 { try await Task.sleep(nanoseconds: 10_000_000) }
        await client.close()
        // As the terminal does: the server and each of its workers.
        for pid in [server.process.processIdentifier] + workers { kill(pid, SIGINT) }
        let (_, out) = try await slow.value
        #expect(out.hasSuffix(" 200"), "the job in flight on a worker was lost: \(out)")
        // The server exits on its own, and its workers (which ignore SIGINT) with it.
        let exitBy = Date().addingTimeInterval(15)
        while server.process.isRunning, Date() < exitBy { usleep(20_000) }
        #expect(!server.process.isRunning, "the server did not stop on SIGINT")
        let goneBy = Date().addingTimeInterval(5)
        while Date() < goneBy, workers.contains(where: { kill($0, 0) == 0 }) { usleep(20_000) }
        for pid in workers { #expect(kill(pid, 0) != 0, "worker \(pid) outlived its server") }
        server.terminate()
    }

    @Test func workersDieWithAServerKilledHard() async throws {
        let server = try ServerProcess()
        let path = try #require(server.socketPath)
        let client = try await ControlClient.connect(path: path)
        let workers = try await client.snapshot().pool("processes")!.workers.map(\.pid)
        await client.close()
        kill(server.process.processIdentifier, SIGKILL)
        server.process.waitUntilExit()
        let deadline = Date().addingTimeInterval(2)
        while Date() < deadline, workers.contains(where: { kill($0, 0) == 0 }) { usleep(20_000) }
        for pid in workers { #expect(kill(pid, 0) != 0, "worker \(pid) outlived its server") }
        server.terminate()
    }

    @Test func prometheusDumpPassesPromtool() throws {
        let server = try ServerProcess()
        defer { server.terminate() }
        _ = try Binaries.run("/usr/bin/curl", ["-s", "http://127.0.0.1:\(server.port)/hash"])
        let dump = try Binaries.run(Binaries.loopscope, ["dump", "--control-dir", server.controlDir, "--format", "prometheus"])
        #expect(dump.status == 0)
        #expect(dump.output.contains("loopscope_route_requests_total{server=\"e2e\",method=\"GET\",route=\"/hash\"} 1"))
        guard let promtool = Binaries.which("promtool") else {
            Issue.record("promtool missing (Debian package prometheus; installed by .ci/run)")
            return
        }
        let file = NSTemporaryDirectory() + "metrics-\(getpid()).txt"
        try dump.output.write(toFile: file, atomically: true, encoding: .utf8)
        let check = try Binaries.run("/bin/sh", ["-c", "\(promtool) check metrics < \(file)"])
        #expect(check.status == 0, "\(check.output)")
    }
}

/// A blocking line-oriented Unix socket, to speak the protocol byte by byte as `socat` would.
final class LineSocket {
    private let fd: Int32
    private var buffer: [UInt8] = []

    init(path: String, receiveBuffer: Int32? = nil) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        if var size = receiveBuffer { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() where i < raw.count - 1 { raw[i] = b }
        }
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        guard rc == 0 else { throw E2EError("connect \(path): errno \(errno)") }
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func send(_ line: String) throws {
        let bytes = Array((line + "\n").utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw E2EError("write failed") }
            off += n
        }
    }

    func readLine() throws -> String {
        while true {
            if let nl = buffer.firstIndex(of: 10) {
                let line = String(decoding: buffer[..<nl], as: UTF8.self)
                buffer.removeSubrange(...nl)
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = read(fd, &chunk, chunk.count)
            guard n > 0 else { throw E2EError("connection closed or timed out") }
            buffer += chunk[..<n]
        }
    }

    func readJSON() throws -> [String: Any] {
        let line = try readLine()
        guard let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { throw E2EError("not an object: \(line)") }
        return obj
    }
}

@Suite(.serialized) struct ControlSocketAccessTests {
    @Test func aReadOnlyGroupMayWatchButNotChange() throws {
        guard getuid() == 0, let setpriv = Binaries.which("setpriv"), let socat = Binaries.which("socat") else {
            Issue.record("needs root, setpriv and socat (installed by .ci/run)")
            return
        }
        let server = try ServerProcess(extra: ["--read-only-group", "65534"])
        defer { server.terminate() }
        let path = try #require(server.socketPath)
        let script = #"{"id":1,"op":"hello","versions":[1]}\n{"id":2,"op":"events"}\n{"id":3,"op":"route","route":"/hash","model":"threads"}\n"#
        let r = try Binaries.run("/bin/sh", ["-c", "printf '\(script)' | timeout 5 \(setpriv) --reuid=65534 --regid=65534 --clear-groups \(socat) -t1 - UNIX-CONNECT:\(path)"])
        #expect(r.output.contains("\"readOnly\":true"))
        #expect(r.output.contains("\"id\":2,\"ok\":true") || r.output.contains("\"ok\":true,\"id\":2") || r.output.contains("\"id\":2"))
        #expect(r.output.contains("\"code\":\"forbidden\""))
        #expect(r.output.contains("read-only"))
    }

    @Test func aSubscriberThatDoesNotReadLosesFramesNotTheServer() async throws {
        let server = try ServerProcess()
        defer { server.terminate() }
        let path = try #require(server.socketPath)
        let slow = try LineSocket(path: path, receiveBuffer: 4096)
        _ = try slow.readLine()
        try slow.send(#"{"id":1,"op":"hello","versions":[1]}"#)
        _ = try slow.readLine()
        try slow.send(#"{"id":2,"op":"subscribe","intervalMs":100}"#)
        _ = try slow.readLine()
        // Do not read for a while; meanwhile the server keeps serving.
        for _ in 0..<16 {
            try await Task.sleep(nanoseconds: 500_000_000)
            let (status, body) = try Binaries.run("/usr/bin/curl", ["-s", "-w", "%{http_code}", "http://127.0.0.1:\(server.port)/hello"])
            #expect(status == 0 && body.hasSuffix("200"), "curl exit \(status): \(body)")
        }
        var dropped = 0
        for _ in 0..<400 where dropped == 0 {
            let frame = try slow.readJSON()
            dropped = ((frame["frame"] as? [String: Any])?["dropped"] as? Int) ?? 0
        }
        #expect(dropped > 0)
        let client = try await ControlClient.connect(path: path)
        #expect(try await client.snapshot().selfCost.framesDropped > 0)
        await client.close()
    }
}
