import Testing
import NIOCore
@testable import LoopScopeRuntime
import LoopScopeWire

/// The connection timeouts' state machine, without sockets or clocks.
@Suite struct ConnectionTimeoutsTests {
    static var limits: ConnectionLimits {
        var l = ConnectionLimits()
        l.headerTimeout = .milliseconds(300)
        l.idleTimeout = .milliseconds(200)
        l.bodyTimeout = .milliseconds(250)
        return l
    }

    @Test func aNewConnectionMustCompleteItsHeadWithinTheHeaderTimeout() {
        var t = ConnectionTimeouts(limits: Self.limits)
        guard case .arm(.headerTimeout, .milliseconds(300), let g) = t.opened() else { Issue.record("header timer not armed"); return }
        // Bytes that trickle in do not restart it.
        #expect(t.bytesRead() == .none)
        #expect(t.fired(generation: g) == .close(.headerTimeout))
    }

    @Test func aRequestBeingAnsweredIsUnderNoTimeoutAndThenTheIdleOneApplies() {
        var t = ConnectionTimeouts(limits: Self.limits)
        guard case .arm(_, _, let header) = t.opened() else { Issue.record("not armed"); return }
        #expect(t.headReceived() == .disarm)
        #expect(t.fired(generation: header) == .none)
        guard case .arm(.idleTimeout, .milliseconds(200), let idle) = t.responseEnded() else { Issue.record("idle timer not armed"); return }
        #expect(t.fired(generation: idle) == .close(.idleTimeout))
    }

    @Test func aBodyMustKeepArrivingWithinTheBodyTimeoutBetweenReads() {
        var t = ConnectionTimeouts(limits: Self.limits)
        _ = t.opened()
        guard case .arm(.bodyTimeout, .milliseconds(250), let first) = t.headReceived(bodyFollows: true) else { Issue.record("body timer not armed"); return }
        // More of the body restarts it: the old timer is stale.
        guard case .arm(.bodyTimeout, _, let second) = t.bytesRead() else { Issue.record("body timer not re-armed"); return }
        #expect(t.fired(generation: first) == .none)
        #expect(t.fired(generation: second) == .close(.bodyTimeout))
        // Once the body ended, the request is being answered: no timeout.
        #expect(t.bodyEnded() == .disarm)
        #expect(t.fired(generation: second) == .none)
        #expect(t.bytesRead() == .none, "bytes of a pipelined request while answering start nothing")
    }

    @Test func aHeadWithoutABodyArmsNoBodyTimer() {
        var t = ConnectionTimeouts(limits: Self.limits)
        _ = t.opened()
        #expect(t.headReceived(bodyFollows: false) == .disarm)
        #expect(t.bodyEnded() == .none)
        guard case .arm(.idleTimeout, _, _) = t.responseEnded() else { Issue.record("idle timer not armed"); return }
        #expect(!t.readingBody)
    }

    @Test func theFirstByteAfterAnIdleSpellStartsTheHeaderTimeout() {
        var t = ConnectionTimeouts(limits: Self.limits)
        _ = t.opened()
        _ = t.headReceived()
        guard case .arm(.idleTimeout, _, let idle) = t.responseEnded() else { Issue.record("idle timer not armed"); return }
        guard case .arm(.headerTimeout, .milliseconds(300), let header) = t.bytesRead() else { Issue.record("header timer not armed"); return }
        #expect(t.fired(generation: idle) == .none)
        #expect(t.fired(generation: header) == .close(.headerTimeout))
    }

    @Test func pipelinedRequestsKeepTheConnectionBusyUntilTheLastResponse() {
        var t = ConnectionTimeouts(limits: Self.limits)
        _ = t.opened()
        #expect(t.headReceived() == .disarm)
        #expect(t.headReceived() == .none)
        #expect(t.responseEnded() == .none)
        #expect(t.phase == .answering(requests: 1))
        guard case .arm(.idleTimeout, _, _) = t.responseEnded() else { Issue.record("idle timer not armed"); return }
        #expect(t.phase == .idle)
    }

    @Test func drainingClosesAConnectionBetweenRequestsAndPassesOnOneBeingAnswered() {
        var t = ConnectionTimeouts(limits: Self.limits)
        _ = t.opened()
        #expect(t.drain() == .closeNow, "nothing of a head read yet")
        _ = t.headReceived()
        #expect(t.drain() == .passOn)
        _ = t.responseEnded()
        #expect(t.drain() == .closeNow, "idle")
        #expect(!t.drainOnHead)
    }

    @Test func drainingWithPartOfAHeadReadWaitsForTheHead() {
        var t = ConnectionTimeouts(limits: Self.limits)
        _ = t.opened()
        _ = t.headReceived()
        _ = t.responseEnded()
        _ = t.bytesRead()
        #expect(t.phase == .awaitingHead(partial: true))
        #expect(t.drain() == .afterHead)
        #expect(t.drainOnHead)
        #expect(t.headReceived() == .disarm)
        #expect(!t.drainOnHead, "the head came: the guard passes the drain on once")
        #expect(t.drain() == .passOn)
        // On a new connection, the first bytes make the head partial too.
        var fresh = ConnectionTimeouts(limits: Self.limits)
        _ = fresh.opened()
        #expect(fresh.bytesRead() == .none)
        #expect(fresh.drain() == .afterHead)
    }
}
