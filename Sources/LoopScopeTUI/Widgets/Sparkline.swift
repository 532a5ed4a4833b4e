/// A one-line chart of recent values, newest on the right. Pure.
public enum Sparkline {
    /// `width` cells: the last `width` values scaled to `maximum` (default: their own maximum).
    /// Zero is the lowest bar; missing history is blank.
    public static func render(_ values: [Double], width: Int, glyphs: Glyphs, maximum: Double? = nil) -> String {
        guard width > 0 else { return "" }
        let shown = Array(values.suffix(width))
        let top = max(maximum ?? (shown.max() ?? 0), 1e-9)
        var out = String(repeating: " ", count: width - shown.count)
        for v in shown {
            let level = Int((max(0, v) / top * Double(glyphs.bars.count - 1)).rounded())
            out.append(glyphs.bars[min(max(level, 0), glyphs.bars.count - 1)])
        }
        return out
    }

    public static func render(_ values: [UInt64], width: Int, glyphs: Glyphs, maximum: Double? = nil) -> String {
        render(values.map { Double($0) }, width: width, glyphs: glyphs, maximum: maximum)
    }

    public static func render(_ values: [Int], width: Int, glyphs: Glyphs, maximum: Double? = nil) -> String {
        render(values.map { Double($0) }, width: width, glyphs: glyphs, maximum: maximum)
    }
}
