import Foundation
import NIOCore
import Testing
import LoopScopeDemo
@testable import LoopScopeRuntime
@testable import LoopScopeAgent
import LoopScopeWire

/// What requests report besides time (`RequestMeasure`), measured by each server that records
/// requests, reaches the route's figures.
@Suite(.serialized) struct RequestMeasureServerTests {
    @Test func theRuntimeMeasuresTheBodiesItReads() async throws {
        let echo = try Route("/echo", method: "POST", job: DemoJobs.passThrough)
        try await TestServer.with(extraRoutes: [echo]) { t in
            let c = try await HTTPClientConnection.connect(host: "127.0.0.1", port: t.port, group: t.group).get()
            defer { c.close() }
            for size in [1_000, 3_000] {
                let r = try await c.send(.POST, "/echo", body: Array(repeating: UInt8(ascii: "x"), count: size)).get()
                #expect(r.status == 200 && r.body.readableBytes == size)
            }
            #expect(try await c.get("/hello").get().status == 200)
            // The runtime records a request just after writing its response.
            #expect(await eventually { t.server.snapshot().route("/hello")?.requests == 1 })
            t.server.rolloverStatistics()
            let s = t.server.snapshot()
            #expect(s.route("/echo")?.perRequest.requestBytes == 2_000)
            #expect(s.route("/echo")?.perRequest.responseBytes == 2_000, "the echo answers the body")
            #expect(s.route("/hello")?.perRequest.requestBytes == 0)
            #expect(s.route("/hello")?.perRequest.responseBytes == 6, "hello\\n")
            #expect(PrometheusText.render(s).contains("loopscope_route_request_bytes{server=\"test\",method=\"POST\",route=\"/echo\"} 2000"))
        }
    }

    @Test func thePlainNIOHandlerMeasuresTheBodiesItPassesOn() async throws {
        try await withPlainNIOServer { agent, c, _ in
            for size in [100, 300, 800] {
                let r = try await c.send(.POST, "/upload", body: Array(repeating: UInt8(ascii: "y"), count: size)).get()
                #expect(String(buffer: r.body) == "\(size) bytes\n")
            }
            _ = try await c.get("/hello").get()
            agent.core.rollover()
            let s = agent.snapshot()
            #expect(s.route("/upload")?.perRequest.requestBytes == 400)
            #expect(s.route("/upload")?.perRequest.responseBytes == Double("100 bytes\n".utf8.count), "every answer is 10 bytes")
            #expect(s.route("/hello")?.perRequest.requestBytes == 0)
            #expect(s.route("/hello")?.perRequest.responseBytes == 6)
        }
    }
}
