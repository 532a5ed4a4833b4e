import Testing
import LoopScopeWire
@testable import LoopScopeAgent

/// The control protocol's state, without a socket: handshake, read-only connections,
/// subscriptions and which frames go out whole.
@Suite struct ControlSessionTests {
    func greeted(readOnly: Bool = false) throws -> ControlSession {
        var s = ControlSession(readOnly: readOnly)
        let got1 = try s.admit(.hello(versions: [1], client: nil))
        #expect(got1 == .reply(.negotiated(version: 1)))
        return s
    }

    /// The code `command` is refused with, nil when admitted.
    func refusal(_ s: inout ControlSession, _ command: Command) -> WireError.Code? {
        do {
            _ = try s.admit(command)
            return nil
        } catch {
            return error.code
        }
    }

    @Test func nothingButHelloBeforeTheHandshakeAndNoCommonVersionIsRefused() throws {
        var s = ControlSession(readOnly: false)
        let got2 = refusal(&s, .snapshot)
        #expect(got2 == .handshakeRequired)
        let got3 = refusal(&s, .hello(versions: [99], client: nil))
        #expect(got3 == .unsupportedVersion)
        let got4 = try s.admit(.hello(versions: [2, 1], client: nil))
        #expect(got4 == .reply(.negotiated(version: 1)))
        let got5 = try s.admit(.snapshot)
        #expect(got5 == .execute(.snapshot))
    }

    @Test func aReadOnlyConnectionReadsButChangesNothing() throws {
        var s = try greeted(readOnly: true)
        let got6 = try s.admit(.events(since: 0))
        #expect(got6 == .execute(.events(since: 0)))
        for command: Command in [.resize(pool: "threads", size: 2), .route(method: "GET", path: "/a", model: .threads), .fix(diagnosis: "x"), .stallThreshold(millis: 5)] {
            let got7 = refusal(&s, command)
            #expect(got7 == .forbidden)
        }
    }

    @Test func subscribingAgainKeepsTheSubscriptionAndUnsubscribingTwiceIsAnError() throws {
        var s = try greeted()
        guard case .startStream(let id, 100, _) = try s.admit(.subscribe(intervalMs: 100)) else { Issue.record("no stream"); return }
        guard case .startStream(let again, 500, _) = try s.admit(.subscribe(intervalMs: 500)) else { Issue.record("no stream"); return }
        #expect(again == id)
        guard case .stopStream = try s.admit(.unsubscribe) else { Issue.record("not stopped"); return }
        let got8 = refusal(&s, .unsubscribe)
        #expect(got8 == .notSubscribed)
    }

    @Test func framesOfUnchangedContentGoOutShortOnlyWhenAsked() throws {
        var plain = try greeted()
        _ = try plain.admit(.subscribe(intervalMs: 100))
        var sent: [Bool] = []
        for g: UInt64 in [1, 1, 1] { sent.append(plain.sendsWholeFrame(generation: g)) }
        #expect(sent == [true, true, true])

        var skipping = try greeted()
        _ = try skipping.admit(.subscribe(intervalMs: 100, skipUnchanged: true))
        sent = []
        for g: UInt64 in [1, 1, 1, 2, 2, 3] { sent.append(skipping.sendsWholeFrame(generation: g)) }
        #expect(sent == [true, false, false, true, false, true])
        // Subscribing again (a new interval) starts with a whole frame.
        _ = try skipping.admit(.subscribe(intervalMs: 200, skipUnchanged: true))
        let whole = skipping.sendsWholeFrame(generation: 3)
        #expect(whole)
    }
}
