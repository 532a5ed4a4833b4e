import NIOConcurrencyHelpers
import LoopScopeWire

/// The last snapshot, shared by every subscriber for up to 90 ms (just under the fastest
/// subscription interval) so that many subscribers cost one snapshot, encoded at most once and
/// only when someone needs it whole. Commands invalidate it, so their effect shows in the very
/// next frame. It numbers the snapshots' contents (`UnchangedFrame.content(of:)`): the
/// generation moves only when a figure did, so a subscription can skip frames that would
/// repeat the last one it was sent. Thread-safe.
package final class SnapshotCache: Sendable {
    /// One snapshot, with the generation of its content and its encoding made on first use.
    package final class Entry: Sendable {
        package let snapshot: Snapshot
        package let generation: UInt64
        private let bytes = NIOLockedValueBox<[UInt8]?>(nil)

        init(snapshot: Snapshot, generation: UInt64) {
            self.snapshot = snapshot
            self.generation = generation
        }

        /// The snapshot as JSON.
        package func encoded() -> [UInt8] {
            bytes.withLockedValue { b in
                if let b { return b }
                let e = snapshot.json()
                b = e
                return e
            }
        }
    }

    private struct State {
        var entry: Entry?
        var at: UInt64 = 0
        var content: Snapshot?
        var generation: UInt64 = 0
    }

    private let core: AgentCore
    private let maxAgeNanos: UInt64
    private let state = NIOLockedValueBox(State())

    package init(core: AgentCore, maxAgeNanos: UInt64 = 90_000_000) {
        self.core = core
        self.maxAgeNanos = maxAgeNanos
    }

    /// The current snapshot, rebuilt when older than the maximum age.
    package func current() -> Entry {
        let now = Clocks.monotonicNanos()
        if let e = state.withLockedValue({ s in s.entry.flatMap { now &- s.at < maxAgeNanos ? $0 : nil } }) { return e }
        let snapshot = core.snapshot()
        let content = UnchangedFrame.content(of: snapshot)
        return state.withLockedValue { s in
            if s.content != content {
                s.generation += 1
                s.content = content
            }
            let e = Entry(snapshot: snapshot, generation: s.generation)
            s.entry = e
            s.at = now
            return e
        }
    }

    /// Forgets the cached snapshot (after a command, so its effect shows at once).
    package func invalidate() { state.withLockedValue { $0.entry = nil } }
}
