import LoopScopeWire

/// One look at a stalled thread: where it was, and the stalled time the look stands for.
package struct StallSample: Sendable, Equatable {
    package var function: String
    package var frames: [String]
    package var state: StallState
    package var syscall: String?
    package var route: String?
    /// Stalled time this sample is charged with: since the previous look at this executor
    /// (or since the stall began, for the first look).
    package var chargedNanos: UInt64
    /// Which stall of the executor this is (one stall is sampled many times).
    package var stallID: UInt64
    /// How long the stall had lasted when sampled.
    package var stallNanos: UInt64
}

/// The stall sites of one executor: stalled time by site over the last 60 s and since start,
/// in bounded memory (at most `capacity` sites; the least stalled is evicted and counted).
/// A plain value; the clock is passed in (whole seconds since start, and wall time).
package struct StallSiteTable: Sendable {
    private struct Entry: Sendable {
        var site: StallSite
        var lastStallID: UInt64 = .max
        /// Per second of the last 60: which second the slot holds, and its figures.
        var ring = [(second: Int, totals: StallTotals)](repeating: (-1, StallTotals()), count: 60)
    }

    package let capacity: Int
    private var entries: [String: Entry] = [:]
    private(set) var omitted: UInt64 = 0

    package init(capacity: Int = 32) { self.capacity = capacity }

    package var isEmpty: Bool { entries.isEmpty }

    package mutating func record(_ s: StallSample, second: Int, wallTime: Double) {
        let key = s.state.rawValue + "|" + (s.syscall ?? "") + "|" + s.function
        if entries[key] == nil {
            if entries.count >= capacity, let victim = entries.min(by: { $0.value.site.total.micros < $1.value.site.total.micros }) {
                entries[victim.key] = nil
                omitted &+= 1
            }
            entries[key] = Entry(site: StallSite(function: s.function, state: s.state, syscall: s.syscall))
        }
        let micros = s.chargedNanos / 1000
        var e = entries.removeValue(forKey: key)!
        do {
            let newStall = e.lastStallID != s.stallID
            e.lastStallID = s.stallID
            e.site.frames = s.frames
            if let route = s.route { e.site.route = route }
            e.site.total.micros &+= micros
            if newStall { e.site.total.stalls &+= 1 }
            e.site.maxMicros = max(e.site.maxMicros, s.stallNanos / 1000)
            e.site.lastSeen = wallTime
            let slot = second % e.ring.count
            if e.ring[slot].second != second { e.ring[slot] = (second, StallTotals()) }
            e.ring[slot].totals.micros &+= micros
            if newStall { e.ring[slot].totals.stalls &+= 1 }
        }
        entries[key] = e
    }

    /// The sites, most stalled time over the last 60 s first (then since start), at most `kept`.
    package func sites(second: Int, kept: Int = StallSite.kept) -> [StallSite] {
        var out = entries.values.map { e -> StallSite in
            var site = e.site
            site.last60s = e.ring.reduce(into: StallTotals()) { t, slot in
                guard slot.second >= 0, second - slot.second < e.ring.count, slot.second <= second else { return }
                t.micros &+= slot.totals.micros
                t.stalls &+= slot.totals.stalls
            }
            return site
        }
        out.sort { ($0.last60s.micros, $0.total.micros, $0.function) > ($1.last60s.micros, $1.total.micros, $1.function) }
        return Array(out.prefix(kept))
    }

    /// Sites beyond those `sites` returns, plus those evicted.
    package func omittedCount(kept: Int = StallSite.kept) -> UInt64 {
        omitted &+ UInt64(max(0, entries.count - kept))
    }

    package var footprintBytes: Int { entries.count * (60 * 24 + 400) }
}

