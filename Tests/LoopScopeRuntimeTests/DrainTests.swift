import Foundation
import Testing
@testable import LoopScopeRuntime
import LoopScopeWire

/// Shutting down drains through NIO's quiescing: the listener closes, idle keep-alive
/// connections end at once, a request in flight is answered with `connection: close`.
@Suite(.serialized) struct DrainTests {
    @Test func shutdownEndsIdleConnectionsAtOnceAndAnswersTheRequestInFlight() async throws {
        // `with` stops the server again at the end (a no-op) or when the test throws.
        try await TestServer.with(models: ["/sleep": .threads]) { t in
            let port = t.port
            let idle = try RawConnection(port: port)
            idle.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(idle.readResponse(timeout: .seconds(5))?.hasPrefix("HTTP/1.1 200") == true)
            let busy = try RawConnection(port: port)
            busy.send("GET /sleep?ms=3000 HTTP/1.1\r\nHost: x\r\n\r\n")
            let sleeping = { t.server.snapshot().routes.first { $0.path == "/sleep" }?.inFlight ?? 0 }
            #expect(await eventually { sleeping() == 1 })

            let stopping = Task { await t.server.shutdown() }
            // The idle connection ends while the other request is still being served…
            let (idleText, idleClosed) = idle.readUntilClosed(timeout: .seconds(5))
            #expect(idleClosed != nil, "the idle keep-alive connection stayed open")
            #expect(idleText.isEmpty)
            let stillServing = sleeping()
            #expect(stillServing == 1, "the request in flight ended before the idle connection was closed")
            // …which is answered, told the connection ends, and then closed.
            let (answer, busyClosed) = busy.readUntilClosed(timeout: .seconds(10))
            #expect(answer.hasPrefix("HTTP/1.1 200"), "answer: \(answer)")
            #expect(answer.lowercased().contains("connection: close"), "answer: \(answer)")
            #expect(busyClosed != nil)
            await stopping.value
            // Nothing listens any more.
            #expect(throws: RawConnectionError.self) { _ = try RawConnection(port: port) }
        }
    }
}
