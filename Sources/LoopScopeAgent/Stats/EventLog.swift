import NIOConcurrencyHelpers
import LoopScopeWire

/// The bounded log of control events. Thread-safe (its own lock).
public final class EventLog: Sendable {
    private struct State {
        var events: [ControlEvent] = []
        var nextSequence: UInt64 = 1
        var dropped: UInt64 = 0
    }

    /// Events kept; older ones are dropped and counted.
    public let capacity: Int
    private let state = NIOLockedValueBox(State())

    public init(capacity: Int = 256) {
        self.capacity = capacity
    }

    /// Appends an event and returns it with its sequence number and time.
    @discardableResult
    public func append(_ kind: ControlEvent.Kind, subject: String, old: String, new: String, actor: String) -> ControlEvent {
        state.withLockedValue { s in
            let event = ControlEvent(sequence: s.nextSequence, time: Clocks.wallSeconds(), kind: kind, subject: subject, old: old, new: new, actor: actor)
            s.nextSequence += 1
            if s.events.count == capacity {
                s.events.removeFirst()
                s.dropped += 1
            }
            s.events.append(event)
            return event
        }
    }

    /// Events with a sequence number above `since`, oldest first.
    public func events(since: UInt64 = 0) -> [ControlEvent] {
        state.withLockedValue { s in s.events.filter { $0.sequence > since } }
    }

    /// The last `count` events and how many were dropped since start.
    public func recent(_ count: Int) -> (events: [ControlEvent], dropped: UInt64) {
        state.withLockedValue { s in (Array(s.events.suffix(count)), s.dropped) }
    }
}
