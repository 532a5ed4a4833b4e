import Foundation
import Testing
import LoopScopeWire
@testable import LoopScopeRuntime
@testable import LoopScopeAgent

@Suite(.serialized) struct ExecutionModelTests {
    @Test func eachModelRunsTheComputeStageWhereItSays() async throws {
        try await TestServer.with() { t in
            let pid = getpid()

            let onLoop = try await t.get("/where").body
            #expect(onLoop.contains("pid=\(pid) "))
            #expect(onLoop.contains("thread=NIO-ELT"))
            #expect(onLoop.contains("task=false"))

            try t.server.setModel(.task, route: "/where")
            let onTask = try await t.get("/where").body
            #expect(onTask.contains("pid=\(pid) "))
            #expect(onTask.contains("task=true"))
            #expect(!onTask.contains("NIO-ELT") && !onTask.contains("ls-"))

            try t.server.setModel(.threads, route: "/where")
            let onThreads = try await t.get("/where").body
            #expect(onThreads.contains("pid=\(pid) "))
            #expect(onThreads.contains("thread=ls-threads"))
            #expect(onThreads.contains("task=false"))

            try t.server.setModel(.processes, route: "/where")
            let inProcess = try await t.get("/where").body
            let workerPID = Int32(inProcess.split(separator: " ")[0].dropFirst(4))!
            #expect(workerPID != pid)
            #expect(t.server.processWorkerPIDs.contains(workerPID))
        }
    }

    @Test func switchingModelsUnderLoadLosesNoRequest() async throws {
        try await TestServer.with(threads: 2, processes: 2) { t in
            let total = 400
            let statuses = try await withThrowingTaskGroup(of: [Int].self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        let c = try await HTTPClientConnectionFactory.connect(port: t.port, group: t.group)
                        var s: [Int] = []
                        for i in 0..<(total / 8) {
                            s.append(try await c.get("/hash?ms=\((i + worker) % 3)").get().status)
                        }
                        c.close()
                        return s
                    }
                }
                group.addTask {
                    for model in [ExecutionModel.threads, .processes, .task, .loop, .threads, .processes, .loop] {
                        try await Task.sleep(nanoseconds: 30_000_000)
                        try t.server.setModel(model, route: "/hash")
                    }
                    return []
                }
                var all: [Int] = []
                for try await s in group { all += s }
                return all
            }
            #expect(statuses.count == total)
            #expect(statuses.allSatisfy { $0 == 200 })
            t.server.rolloverStatistics()
            let hash = t.server.snapshot().route("/hash")!
            #expect(hash.requests == UInt64(total))
            #expect(hash.inFlight == 0)
            #expect(t.server.snapshot().events.filter { $0.kind == .route }.count == 7)
        }
    }

    @Test func aFullQueueAnswers503WithRetryAfterAndCountsTheRejection() async throws {
        try await TestServer.with(threads: 1, threadQueueLimit: 1, models: ["/sleep": .threads]) { t in
            // a holds the one thread, b waits in the one queue place: c finds the queue full.
            async let a = t.get("/sleep?ms=400")
            #expect(await eventually { t.server.snapshot().pool("threads")?.busy == 1 })
            async let b = t.get("/sleep?ms=10")
            #expect(await eventually { t.server.snapshot().pool("threads")?.queued == 1 })
            let c = try await t.response("/sleep?ms=10")
            #expect(c.status == 503)
            #expect(c.headers["retry-after"] == ["1"])
            #expect(String(buffer: c.body).contains("queue is full"))
            #expect(try await a.status == 200)
            #expect(try await b.status == 200)
            let pool = t.server.snapshot().pool("threads")!
            #expect(pool.rejected == 1)
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrderOnOneConnection() async throws {
        try await TestServer.with(models: ["/sleep": .threads]) { t in
            let c = try await HTTPClientConnectionFactory.connect(port: t.port, group: t.group)
            let first = c.get("/sleep?ms=50")
            let second = c.get("/hello")
            let third = c.get("/hash?ms=1")
            #expect(String(buffer: try await first.get().body).hasPrefix("slept 50 ms"))
            #expect(String(buffer: try await second.get().body) == "hello\n")
            #expect(String(buffer: try await third.get().body).hasPrefix("hash "))
            c.close()
        }
    }

    @Test func malformedAndOversizedRequestsAreRefusedCleanly() async throws {
        try await TestServer.with() { t in
            #expect(try t.raw("THIS IS NOT HTTP\r\n\r\n").hasPrefix("HTTP/1.1 400"))
            let big = String(repeating: "x", count: (1 << 20) + 10)
            let reply = try t.raw("POST /hello HTTP/1.1\r\nhost: x\r\ncontent-length: \(big.utf8.count)\r\n\r\n\(big)")
            #expect(reply.hasPrefix("HTTP/1.1 413"))
            #expect(try t.raw("DELETE /hello HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").hasPrefix("HTTP/1.1 405"))
            #expect(try await t.get("/hello").status == 200)
        }
    }

    @Test func handlerErrorsAnswer500AndBadInputAnswers400() async throws {
        let fail = try Route("/fail", job: ComputeJob("fail") { _ in throw JobError.failed("boom") })
        try await TestServer.with(extraRoutes: [fail]) { t in
            let r = try await t.get("/fail")
            #expect(r.status == 500)
            #expect(r.body.contains("boom"))
            #expect(try await t.get("/hash?ms=-1").status == 400)
            #expect(try await t.get("/hash?ms=abc").status == 400)
            #expect(try await t.get("/nowhere").status == 404)
            t.server.rolloverStatistics()
            let s = t.server.snapshot()
            #expect(s.route("/fail")!.status.s5xx == 1)
            #expect(s.route("/hash")!.status.s4xx == 2)
        }
    }
}

import NIOCore
import LoopScopeDemo

enum HTTPClientConnectionFactory {
    static func connect(port: Int, group: any EventLoopGroup) async throws -> HTTPClientConnection {
        try await HTTPClientConnection.connect(host: "127.0.0.1", port: port, group: group).get()
    }
}
