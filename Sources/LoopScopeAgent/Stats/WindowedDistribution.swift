import Histogram
import LoopScopeWire

/// A distribution of microsecond values kept per second, summarised over the last completed
/// second and the last ten, with a 60-second history of per-second maxima or p99.
///
/// A plain value: the owner serialises access (every owner holds it inside a lock).
/// Memory: three dense HDR histograms (3 significant digits, 1 µs to 60 s) — the current
/// second, the ten-second window and everything since start — plus the last ten seconds kept
/// as their non-empty buckets only (a few hundred bytes for a typical second, at most one
/// entry per bucket), from which the window is rebuilt at each rollover.
package struct WindowedDistribution {
    /// What the per-second history records.
    package enum HistoryFigure { case max, p99 }

    /// One non-empty bucket of a completed second.
    private struct Bucket {
        var value: UInt64
        var count: UInt32
    }

    package static let slots = 10
    package static let historyLength = 60
    package static let highestTrackableMicros: UInt64 = 60_000_000

    private var current: Histogram<UInt32>
    /// The last ten completed seconds, oldest overwritten first.
    private var ring: [[Bucket]] = Array(repeating: [], count: Self.slots)
    private var ringNext = 0
    /// The seconds of `ring` merged.
    private var window: Histogram<UInt32>
    /// Every value since start, up to the last rollover.
    private(set) var cumulative: Histogram<UInt64>
    private(set) var summary = WindowedPercentiles()
    /// `buckets()` as of the last rollover.
    private(set) var cachedBuckets: [HistogramBucket] = []
    /// The sum of every value since start as of the last rollover (the HDR histogram's mean ×
    /// its count: within its 0.1 % precision).
    private(set) var cachedSumMicros: UInt64 = 0
    private(set) var history: [UInt64] = []
    private(set) var countHistory: [UInt64] = []
    private let historyFigure: HistoryFigure

    package init(history: HistoryFigure) {
        current = Self.emptySecond()
        window = Self.emptySecond()
        cumulative = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: Self.highestTrackableMicros, numberOfSignificantValueDigits: .three)
        historyFigure = history
    }

    /// An empty histogram of one second's values, as `record` and `absorb` keep them.
    package static func emptySecond() -> Histogram<UInt32> {
        Histogram<UInt32>(lowestDiscernibleValue: 1, highestTrackableValue: highestTrackableMicros, numberOfSignificantValueDigits: .three)
    }

    /// A value clamped into the trackable range.
    @inline(__always)
    package static func clamp(_ micros: UInt64) -> UInt64 { Swift.min(Swift.max(micros, 1), highestTrackableMicros) }

    /// Records one value, clamped into the trackable range.
    @inline(__always)
    package mutating func record(_ micros: UInt64) {
        _ = current.record(Self.clamp(micros))
    }

    /// Adds values recorded elsewhere during the current second (a histogram from `emptySecond()`).
    package mutating func absorb(_ second: Histogram<UInt32>) {
        current.add(second)
    }

    /// Closes the current second: updates the summaries and the history. Call once a second.
    package mutating func rollover() {
        let count = current.totalCount
        var second: [Bucket] = []
        if count > 0 {
            // The since-start distribution takes each second whole, off the request path.
            for v in current.recordedValues() {
                second.append(Bucket(value: v.value, count: UInt32(truncatingIfNeeded: v.count)))
                _ = cumulative.record(v.value, count: UInt64(v.count))
            }
        }
        let wasEmpty = ring[ringNext].isEmpty
        ring[ringNext] = second
        ringNext = (ringNext + 1) % Self.slots
        if !(wasEmpty && second.isEmpty) {
            window = Self.emptySecond()
            for s in ring {
                for b in s { _ = window.record(b.value, count: b.count) }
            }
        }
        summary = WindowedPercentiles(last1s: Self.summarise(current), last10s: Self.summarise(window))
        // A fresh histogram, not `reset()`: the package's reset assigns its ~28k counts one at a
        // time through an unspecialised generic (most of an idle server's rollover); an empty
        // second needs nothing.
        if count > 0 { current = Self.emptySecond() }

        let figure: UInt64
        switch historyFigure {
        case .max: figure = summary.last1s.max
        case .p99: figure = summary.last1s.p99
        }
        Self.push(&history, figure)
        Self.push(&countHistory, count)
        if count > 0 || cachedBuckets.isEmpty {
            cachedBuckets = buckets()
            cachedSumMicros = UInt64((cumulative.mean * Double(cumulative.totalCount)).rounded())
        }
    }

    /// Everything since start as of the last rollover: buckets and sum.
    package var cumulativeHistogram: CumulativeHistogram { CumulativeHistogram(buckets: cachedBuckets, sumMicros: cachedSumMicros) }

    /// Log-spaced buckets of everything recorded since start, for a histogram view.
    package func buckets() -> [HistogramBucket] {
        guard cumulative.totalCount > 0 else { return [] }
        var out: [HistogramBucket] = []
        // Bounds on a 1-2-5 series: 10 µs, 20 µs, 50 µs, 100 µs, …
        var decade: UInt64 = 10
        var step = 0
        var below: UInt64 = 0
        let top = cumulative.max
        while true {
            let bound = decade * [1, 2, 5][step]
            let atOrBelow = cumulative.count(within: 0...bound)
            out.append(HistogramBucket(upToMicros: bound, count: atOrBelow - below))
            below = atOrBelow
            if bound >= top || bound >= Self.highestTrackableMicros { break }
            step += 1
            if step == 3 { step = 0; decade *= 10 }
        }
        return out
    }

    /// Approximate bytes held.
    package var footprintBytes: Int {
        current.estimatedFootprintInBytes + window.estimatedFootprintInBytes + cumulative.estimatedFootprintInBytes
            + ring.reduce(0) { $0 + 16 * $1.capacity + 32 } + 16 * Self.historyLength
    }

    /// The percentiles `valueAtPercentile` gives, and the mean, in one pass over the recorded
    /// values (six separate queries each scan the whole counts array: at once a second for
    /// every distribution, that was most of an idle server's rollover).
    package static func summarise<C>(_ h: Histogram<C>) -> Percentiles {
        let total = h.totalCount
        guard total > 0 else { return .empty }
        let levels: [Double] = [50, 90, 99, 99.9]
        let targets = levels.map { p in Swift.max(1, UInt64((p.nextDown * Double(total) / 100).rounded(.up))) }
        var found = [UInt64](repeating: 0, count: levels.count)
        var next = 0
        var seen: UInt64 = 0
        var sum = 0.0
        let low = h.min, high = h.max
        for v in h.recordedValues() {
            seen += UInt64(v.count)
            sum += Double(h.medianEquivalentForValue(v.value)) * Double(v.count)
            while next < targets.count, seen >= targets[next] {
                found[next] = Swift.max(Swift.min(v.value, high), low)
                next += 1
            }
        }
        return Percentiles(count: total, p50: found[0], p90: found[1], p99: found[2], p999: found[3], max: high, mean: sum / Double(total))
    }

    package static func push<T>(_ array: inout [T], _ value: T) {
        if array.count == historyLength { array.removeFirst() }
        array.append(value)
    }
}
