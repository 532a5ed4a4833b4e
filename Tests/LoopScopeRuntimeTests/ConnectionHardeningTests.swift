import Foundation
import Testing
import NIOCore
import NIOPosix
@testable import LoopScopeRuntime
@testable import LoopScopeAgent
import LoopScopeDemo
import LoopScopeWire

/// Clients that send slowly, not at all, too much, or too many connections cannot hold the
/// server: real sockets, short test timeouts, outcomes awaited with deadlines.
@Suite(.serialized) struct ConnectionHardeningTests {
    @Test func aConnectionSendingHalfAHeaderIsClosedWithinTheHeaderTimeoutAndCounted() async throws {
        try await TestServer.with(configure: { $0.connections.headerTimeout = .milliseconds(300) }) { t in
            let c = try RawConnection(port: t.port)
            c.send("GET /hello HTTP/1.1\r\nHost: x\r\n")
            let (text, closedAfter) = c.readUntilClosed(timeout: .seconds(5))
            let after = try #require(closedAfter, "the connection was not closed")
            #expect(text.isEmpty)
            #expect(after >= .milliseconds(250) && after < .seconds(3), "closed after \(after)")
            #expect(await eventually { t.server.snapshot().connections?.closedHeaderTimeout == 1 })
            #expect(t.server.snapshot().connections?.closedIdle == 0)
        }
    }

    @Test func aBodyThatStopsArrivingHasItsConnectionClosedAtTheBodyTimeoutAndCounted() async throws {
        try await TestServer.with(configure: { $0.connections.bodyTimeout = .milliseconds(300) }) { t in
            let c = try RawConnection(port: t.port)
            c.send("POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789")
            let (text, closedAfter) = c.readUntilClosed(timeout: .seconds(5))
            let after = try #require(closedAfter, "the connection was not closed")
            #expect(text.isEmpty)
            #expect(after >= .milliseconds(250) && after < .seconds(3), "closed after \(after)")
            #expect(await eventually { t.server.snapshot().connections?.closedBodyTimeout == 1 })
        }
    }

    @Test func aBodyTricklingInFasterThanTheBodyTimeoutIsReadAndAnswered() async throws {
        try await TestServer.with(configure: { $0.connections.bodyTimeout = .milliseconds(300) }) { t in
            let c = try RawConnection(port: t.port)
            c.send("POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\n\r\n")
            // 8 bytes, one every 100 ms: 800 ms in all, never 300 ms apart.
            for byte in "abcdefgh" {
                try await Task.sleep(for: .milliseconds(100))
                c.send(String(byte))
            }
            let response = try #require(c.readResponse(timeout: .seconds(5)), "no answer")
            #expect(response.hasPrefix("HTTP/1.1 "))
            #expect(t.server.snapshot().connections?.closedBodyTimeout == 0)
        }
    }

    @Test func aWorkerProcessSpawnedWhileAConnectionIsOpenDoesNotHoldItOpen() async throws {
        try await TestServer.with(configure: { $0.connections.idleTimeout = .milliseconds(300) }) { t in
            let c = try RawConnection(port: t.port)
            c.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(c.readResponse(timeout: .seconds(5))?.hasPrefix("HTTP/1.1 200") == true)
            // A new worker process starts while the connection is open…
            t.server.core.processPool.resize(to: 2)
            #expect(await eventually { t.server.processWorkerPIDs.count == 2 })
            // …and the server's close still ends it for the client (the worker did not inherit it).
            let (_, closedAfter) = c.readUntilClosed(timeout: .seconds(5))
            #expect(closedAfter != nil, "the connection outlived the server's close")
        }
    }

    @Test func anIdleKeepAliveConnectionIsClosedAfterTheIdleTimeoutAndCounted() async throws {
        try await TestServer.with(configure: { $0.connections.idleTimeout = .milliseconds(300) }) { t in
            let c = try RawConnection(port: t.port)
            c.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            let response = try #require(c.readResponse(timeout: .seconds(5)))
            #expect(response.hasPrefix("HTTP/1.1 200"))
            let (_, closedAfter) = c.readUntilClosed(timeout: .seconds(5))
            let after = try #require(closedAfter, "the idle connection was not closed")
            #expect(after >= .milliseconds(250) && after < .seconds(3), "closed after \(after)")
            #expect(await eventually { t.server.snapshot().connections?.closedIdle == 1 })
            let figures = try #require(t.server.snapshot().connections)
            #expect(figures.closedHeaderTimeout == 0)
            #expect(await eventually { t.server.snapshot().connections?.open == 0 })
        }
    }

    @Test func aKeepAliveConnectionInUseIsNotClosed() async throws {
        try await TestServer.with(configure: { $0.connections.idleTimeout = .milliseconds(300) }) { t in
            let c = try RawConnection(port: t.port)
            // Five requests 100 ms apart span longer than the idle timeout; none is idle that long.
            for _ in 0..<5 {
                c.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
                let response = try #require(c.readResponse(timeout: .seconds(5)))
                #expect(response.hasPrefix("HTTP/1.1 200"))
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(t.server.snapshot().connections?.closedIdle == 0)
        }
    }

    @Test func connectionsOverTheLimitGet503AndAreCountedWhileHelloKeepsAnswering() async throws {
        try await TestServer.with(configure: { $0.connections.maxConnections = 3 }) { t in
            // Two slowloris connections and one keep-alive client fill the limit.
            let held = try (0..<2).map { _ in try RawConnection(port: t.port) }
            for h in held { h.send("GET /hello HTTP/1.1\r\n") }
            let client = try RawConnection(port: t.port)
            client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(client.readResponse(timeout: .seconds(5))?.hasPrefix("HTTP/1.1 200") == true)
            #expect(await eventually { t.server.snapshot().connections?.open == 3 })

            let over = try RawConnection(port: t.port)
            let (text, closedAfter) = over.readUntilClosed(timeout: .seconds(5))
            #expect(text.hasPrefix("HTTP/1.1 503"), "\(text)")
            #expect(text.lowercased().contains("retry-after: 1"))
            #expect(closedAfter != nil)
            let figures = try #require(t.server.snapshot().connections)
            #expect(figures.refusedOverLimit == 1)
            #expect(figures.limit == 3)

            // The client inside the limit is still served.
            client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(client.readResponse(timeout: .seconds(5))?.hasPrefix("HTTP/1.1 200") == true)
        }
    }

    @Test func aDeclaredBodyOverTheLimitIsAnswered413AtItsHeadWithoutSendingTheBody() async throws {
        try await TestServer.with { t in
            let c = try RawConnection(port: t.port)
            let clock = ContinuousClock()
            let start = clock.now
            c.send("POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n")
            let response = try #require(c.readResponse(timeout: .seconds(5)), "no answer before the body")
            let elapsed = clock.now - start
            #expect(response.hasPrefix("HTTP/1.1 413"), "\(response)")
            #expect(elapsed < .milliseconds(500), "413 after \(elapsed)")
            print("413 on the head after \(elapsed)")
            // The server ends the connection; it closes when the client does.
            let (_, closedAfter) = c.readUntilClosed(timeout: .seconds(5))
            #expect(closedAfter != nil)
            #expect(await eventually { t.server.snapshot().connections?.bodyTooLarge == 1 })
        }
    }

    @Test func aJobThrowingInAWorkerProcessIsAnsweredWithItsMessageOnce() async throws {
        let route = try Route("/fail", model: .processes, job: DemoJobs.fail)
        try await TestServer.with(extraRoutes: [route]) { t in
            let (status, body) = try await t.get("/fail")
            #expect(status == 500)
            #expect(body == "internal error: this route always fails\n")
        }
    }

    @Test func aServerWhoseControlSocketCannotBindLeavesNothingRunning() async throws {
        let names = ["ls-watchdog", "ls-ticker", "ls-threads", "ls-processes", "NIO-ELT"]
        let routes = try DemoApp.routes(upstream: UpstreamClient(port: 1, group: MultiThreadedEventLoopGroup.singleton))
        let before = threadCount(named: names)
        // A socket path longer than a Unix socket address holds (108 bytes) cannot be bound.
        let dir = NSTemporaryDirectory() + "loopscope-test-" + String(repeating: "d", count: 120)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var c = ServerConfiguration()
        c.name = "bindfail"
        c.port = 0
        c.eventLoops = 2
        c.processPoolSize = 1
        c.workerCommand = WorkerCommand(executable: TestBinaries.loopscope)
        c.control = ControlConfiguration(directory: dir)
        let server = try LoopScopeServer(configuration: c, routes: routes, logger: .init(label: "test"))
        await #expect(throws: RuntimeError.self) { try await server.start() }
        let dog = server.core.agent.watchdog.withLockedValue { $0 }
        #expect(dog?.isRunning != true)
        #expect(server.processWorkerPIDs.isEmpty)
        #expect(await eventually { threadCount(named: names) <= before }, "threads left: \(threadCount(named: names)) (before: \(before))")
    }

    @Test func aPortInUseIsAListenErrorNamingTheAddressAndLeavesNothingRunning() async throws {
        // Something else listens on the port.
        let holder = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        defer { holder.close(promise: nil) }
        let port = try #require(holder.localAddress?.port)

        let names = ["ls-watchdog", "ls-ticker", "ls-threads", "ls-processes", "NIO-ELT"]
        let before = threadCount(named: names)
        var c = ServerConfiguration()
        c.name = "portinuse"
        c.port = port
        c.processPoolSize = 1
        c.workerCommand = WorkerCommand(executable: TestBinaries.loopscope)
        let server = try LoopScopeServer(configuration: c, routes: [], logger: .init(label: "test"))
        do {
            try await server.start()
            Issue.record("a second listener bound port \(port)")
            await server.shutdown()
        } catch let error as RuntimeError {
            guard case .listen(let message) = error else { Issue.record("not a listen error: \(error)"); return }
            #expect(message.contains("127.0.0.1:\(port)"), "\(message)")
            #expect(error.description.hasPrefix("cannot listen: "))
        }
        #expect(server.processWorkerPIDs.isEmpty)
        #expect(await eventually { threadCount(named: names) <= before }, "threads left: \(threadNames(names)) (before: \(before))")
    }

    @Test func anAgentWhoseControlSocketCannotBindLeavesNothingRunning() async throws {
        let names = ["ls-watchdog", "ls-ticker", "ls-threads", "NIO-ELT"]
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let before = threadCount(named: names)
        let dir = NSTemporaryDirectory() + "loopscope-test-" + String(repeating: "a", count: 120)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var c = AgentConfiguration(name: "bindfail")
        c.control = ControlConfiguration(directory: dir)
        await #expect(throws: RuntimeError.self) { _ = try await LoopScopeAgent.start(c, watching: group, logger: .init(label: "test")) }
        #expect(await eventually { threadCount(named: names) <= before }, "threads left: \(threadCount(named: names)) (before: \(before))")
        try await group.shutdownGracefully()
    }
}

@Suite struct ConnectionLimitDefaultTests {
    @Test func theDefaultConnectionLimitLeavesRoomUnderTheFileLimit() {
        #expect(ConnectionLimits.defaultMaxConnections(fileLimit: 1024) == 1024 - ConnectionLimits.reservedDescriptors)
        #expect(ConnectionLimits.defaultMaxConnections(fileLimit: 1_048_576) == 10_000)
        #expect(ConnectionLimits.defaultMaxConnections(fileLimit: 64) == 1)
        // This process's: never more than it may open.
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        #expect(UInt64(ConnectionLimits().maxConnections) < UInt64(limit.rlim_cur))
    }
}
