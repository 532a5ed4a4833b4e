/// Reconnect delays: doubling from `initial` up to `maximum`, reset after a success. Pure.
public struct Backoff: Sendable, Equatable {
    public let initialMillis: Int
    public let maximumMillis: Int
    public private(set) var attempt = 0

    public init(initialMillis: Int = 100, maximumMillis: Int = 5_000) {
        self.initialMillis = initialMillis
        self.maximumMillis = maximumMillis
    }

    /// The delay before the next attempt, and counts the attempt.
    public mutating func next() -> Int {
        defer { attempt += 1 }
        let shift = min(attempt, 20)
        return min(maximumMillis, initialMillis << shift)
    }

    /// Call after a successful connection.
    public mutating func reset() { attempt = 0 }
}
