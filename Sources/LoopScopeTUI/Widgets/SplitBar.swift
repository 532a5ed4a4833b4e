import LoopScopeWire

/// A bar showing where a request's time goes: queue, compute, I/O. Pure.
public enum SplitBar {
    /// `width` cells; queue `░`, compute `█`, I/O `▒` (ASCII: `.`, `#`, `=`).
    public static func render(_ split: LatencySplit, width: Int, glyphs: Glyphs) -> String {
        let total = split.queueMicros + split.computeMicros + split.ioMicros
        guard total > 0, width > 0 else { return String(repeating: " ", count: max(width, 0)) }
        let unicode = glyphs == .unicode
        let parts: [(Double, Character)] = [(split.queueMicros, unicode ? "░" : "."), (split.computeMicros, unicode ? "█" : "#"), (split.ioMicros, unicode ? "▒" : "=")]
        var out = ""
        var used = 0
        for (i, (v, ch)) in parts.enumerated() {
            let n = i == parts.count - 1 ? width - used : Int((v / total * Double(width)).rounded())
            let cells = max(0, min(n, width - used))
            out += String(repeating: ch, count: cells)
            used += cells
        }
        return out
    }
}
