import NIOConcurrencyHelpers
import LoopScopeWire

/// The last snapshot, encoded, shared by every subscriber for up to 90 ms (just under the
/// fastest subscription interval) so that many subscribers cost one snapshot. Commands
/// invalidate it, so their effect shows in the very next frame. Thread-safe.
package final class SnapshotCache: Sendable {
    private let core: AgentCore
    private let maxAgeNanos: UInt64
    private let cached = NIOLockedValueBox<(bytes: [UInt8], at: UInt64)?>(nil)

    package init(core: AgentCore, maxAgeNanos: UInt64 = 90_000_000) {
        self.core = core
        self.maxAgeNanos = maxAgeNanos
    }

    /// The encoded snapshot, rebuilt when older than the maximum age.
    package func encoded() -> [UInt8] {
        let now = Clocks.monotonicNanos()
        if let c = cached.withLockedValue({ $0 }), now &- c.at < maxAgeNanos { return c.bytes }
        let bytes = core.snapshot().json()
        cached.withLockedValue { $0 = (bytes, now) }
        return bytes
    }

    /// Forgets the cached snapshot (after a command, so its effect shows at once).
    package func invalidate() { cached.withLockedValue { $0 = nil } }
}
