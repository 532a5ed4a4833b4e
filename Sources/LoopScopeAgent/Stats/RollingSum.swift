/// Per-second sums kept for the last ten completed seconds in a fixed ring. A plain value.
package struct RollingSum<Sums: Summable>: Sendable {
    package static var slots: Int { 10 }

    private var ring = Array(repeating: Sums.zero, count: Self.slots)
    private var next = 0
    private var filled = 0
    /// Sums over the last ten completed seconds (fewer before ten have passed).
    private(set) var last10s = Sums.zero
    /// Sums of the last completed second.
    private(set) var last1s = Sums.zero

    /// Closes a second whose sums were `second`.
    package mutating func push(_ second: Sums) {
        ring[next] = second
        next = (next + 1) % Self.slots
        filled = min(filled + 1, Self.slots)
        last1s = second
        last10s = ring.reduce(.zero, +)
    }

    /// Completed seconds in the ring (1…10), for turning sums into rates.
    package var seconds: Int { max(filled, 1) }
}
