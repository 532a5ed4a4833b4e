import LoopScopeWire

/// A bar showing where a request's time goes: loop wait, queue, compute, pool wait, I/O. Pure.
public enum SplitBar {
    /// The cell of each part of `LatencySplit.parts`, in order.
    static let cells: [Character] = ["▓", "░", "█", "▚", "▒"]

    /// `width` cells, each part of the split in its own glyph.
    public static func render(_ split: LatencySplit, width: Int) -> String {
        let parts = split.parts
        let total = parts.reduce(0) { $0 + $1.micros }
        guard total > 0, width > 0 else { return String(repeating: " ", count: max(width, 0)) }
        var out = ""
        var used = 0
        for (i, part) in parts.enumerated() {
            let n = i == parts.count - 1 ? width - used : Int((part.micros / total * Double(width)).rounded())
            let count = max(0, min(n, width - used))
            out += String(repeating: Self.cells[i], count: count)
            used += count
        }
        return out
    }

    /// The legend: each part's glyph, name and mean time.
    public static func legend(_ split: LatencySplit) -> String {
        zip(Self.cells, split.parts).map { "\($0) \($1.name) \(Units.micros($1.micros, empty: "0"))" }.joined(separator: "  ")
    }
}
