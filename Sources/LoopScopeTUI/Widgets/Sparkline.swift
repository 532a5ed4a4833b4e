/// A one-line chart of recent values, newest on the right, in Unicode bars. Pure.
public enum Sparkline {
    /// Eight heights, lowest first.
    static let bars: [Character] = Array("▁▂▃▄▅▆▇█")

    /// `width` cells: the last `width` values scaled to `maximum` (default: their own maximum).
    /// Zero is the lowest bar; missing history is blank.
    public static func render(_ values: [Double], width: Int, maximum: Double? = nil) -> String {
        guard width > 0 else { return "" }
        let shown = Array(values.suffix(width))
        let top = max(maximum ?? (shown.max() ?? 0), 1e-9)
        var out = String(repeating: " ", count: width - shown.count)
        for v in shown {
            let level = Int((max(0, v) / top * Double(Self.bars.count - 1)).rounded())
            out.append(Self.bars[min(max(level, 0), Self.bars.count - 1)])
        }
        return out
    }

    public static func render(_ values: [UInt64], width: Int, maximum: Double? = nil) -> String {
        render(values.map { Double($0) }, width: width, maximum: maximum)
    }

    public static func render(_ values: [Int], width: Int, maximum: Double? = nil) -> String {
        render(values.map { Double($0) }, width: width, maximum: maximum)
    }
}
