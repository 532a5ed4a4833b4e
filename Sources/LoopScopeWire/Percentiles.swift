/// A summary of one distribution over one window. Every value is in microseconds.
public struct Percentiles: Codable, Sendable, Equatable {
    /// Samples in the window.
    public var count: UInt64
    public var p50: UInt64
    public var p90: UInt64
    public var p99: UInt64
    public var p999: UInt64
    public var max: UInt64
    /// Arithmetic mean, microseconds.
    public var mean: Double

    public init(count: UInt64 = 0, p50: UInt64 = 0, p90: UInt64 = 0, p99: UInt64 = 0, p999: UInt64 = 0, max: UInt64 = 0, mean: Double = 0) {
        self.count = count
        self.p50 = p50
        self.p90 = p90
        self.p99 = p99
        self.p999 = p999
        self.max = max
        self.mean = mean
    }

    /// The summary of an empty window.
    public static let empty = Percentiles()
}

/// A distribution summarised over the last completed second and the last ten completed seconds.
public struct WindowedPercentiles: Codable, Sendable, Equatable {
    /// The last completed one-second window.
    public var last1s: Percentiles
    /// The last ten completed seconds.
    public var last10s: Percentiles

    public init(last1s: Percentiles = .empty, last10s: Percentiles = .empty) {
        self.last1s = last1s
        self.last10s = last10s
    }
}
