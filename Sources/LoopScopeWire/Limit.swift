/// A value's allowed range, said once: the command line, the configuration and the control
/// protocol check a value against the same `Limit` and refuse it in the same words.
public struct Limit: Sendable, Equatable {
    public let range: ClosedRange<Int>
    /// Said after the upper bound (`ms`), if anything.
    public let unit: String

    public init(_ range: ClosedRange<Int>, unit: String = "") {
        self.range = range
        self.unit = unit
    }

    public func contains(_ value: Int) -> Bool { range.contains(value) }

    /// Why `value` of `name` is refused: `size must be between 1 and 256, got 0`.
    public func refusal(_ name: String, _ value: Int) -> String {
        "\(name) must be between \(range.lowerBound) and \(range.upperBound)\(unit.isEmpty ? "" : " " + unit), got \(value)"
    }

    /// Workers or connections in a pool: at start (`serve --threads`, …) and by `resize`.
    public static let poolSize = Limit(1...256)
    /// Jobs that may wait in a pool's queue: at start and by `limit`.
    public static let queueLimit = Limit(1...1_000_000)
    /// Milliseconds between a subscription's frames (`subscribe`, `dump --every`).
    public static let subscriptionIntervalMillis = Limit(100...10_000, unit: "ms")
    /// Milliseconds an executor must be busy before its threads' stacks are sampled.
    public static let stallThresholdMillis = Limit(1...10_000, unit: "ms")
}
