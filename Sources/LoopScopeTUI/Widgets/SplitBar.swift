import LoopScopeWire

/// A bar showing where a request's time goes: loop wait, queue, compute, pool wait, I/O. Pure.
public enum SplitBar {
    /// The cell of each part of the split.
    static func cell(_ part: LatencySplit.Part) -> Character {
        switch part {
        case .loopWait: return "▓"
        case .queue: return "░"
        case .compute: return "█"
        case .poolWait: return "▚"
        case .io: return "▒"
        }
    }

    /// `width` cells, each part of the split in its own glyph.
    public static func render(_ split: LatencySplit, width: Int) -> String {
        let parts = LatencySplit.Part.allCases
        let total = parts.reduce(0) { $0 + split[$1] }
        guard total > 0, width > 0 else { return String(repeating: " ", count: max(width, 0)) }
        var out = ""
        var used = 0
        for (i, part) in parts.enumerated() {
            let n = i == parts.count - 1 ? width - used : Int((split[part] / total * Double(width)).rounded())
            let count = max(0, min(n, width - used))
            out += String(repeating: Self.cell(part), count: count)
            used += count
        }
        return out
    }

    /// The legend: each part's glyph, name and mean time.
    public static func legend(_ split: LatencySplit) -> String {
        LatencySplit.Part.allCases.map { "\(Self.cell($0)) \($0.name) \(Units.micros(split[$0], empty: "0"))" }.joined(separator: "  ")
    }
}
