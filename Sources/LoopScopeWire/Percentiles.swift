/// A summary of one distribution over one window. Every value is in microseconds.
public struct Percentiles: Codable, Sendable, Equatable, PublicMemberwiseInit {
    /// Samples in the window.
    public var count: UInt64 = 0
    public var p50: UInt64 = 0
    public var p90: UInt64 = 0
    public var p99: UInt64 = 0
    public var p999: UInt64 = 0
    public var max: UInt64 = 0
    /// Arithmetic mean, microseconds.
    public var mean: Double = 0

    /// The summary of an empty window.
    public static let empty = Percentiles()

    private init(_ generated: Never) { switch generated {} }
}

/// A distribution summarised over the last completed second and the last ten completed seconds.
public struct WindowedPercentiles: Codable, Sendable, Equatable, PublicMemberwiseInit {
    /// The last completed one-second window.
    public var last1s: Percentiles = .empty
    /// The last ten completed seconds.
    public var last10s: Percentiles = .empty

    private init(_ generated: Never) { switch generated {} }
}
