/// Sums of a few counters over the last ten completed seconds, in a fixed ring. A plain value.
struct RollingSum {
    private var ring: [[Double]]
    private var next = 0
    private var filled = 0
    /// Values accumulated in the current second.
    private(set) var current: [Double]
    /// Sums over the last ten completed seconds.
    private(set) var last10s: [Double]
    /// Values of the last completed second.
    private(set) var last1s: [Double]

    init(fields: Int) {
        ring = Array(repeating: Array(repeating: 0, count: fields), count: 10)
        current = Array(repeating: 0, count: fields)
        last10s = current
        last1s = current
    }

    @inline(__always)
    mutating func add(_ field: Int, _ value: Double) { current[field] += value }

    /// Closes the current second.
    mutating func rollover() {
        ring[next] = current
        next = (next + 1) % ring.count
        filled = min(filled + 1, ring.count)
        last1s = current
        for f in current.indices {
            var s = 0.0
            for i in 0..<filled { s += ring[i][f] }
            last10s[f] = s
            current[f] = 0
        }
    }

    /// Completed seconds in the ring (1…10), for turning sums into rates.
    var seconds: Int { max(filled, 1) }
}
