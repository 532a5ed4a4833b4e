/// Fixed-width text cells for tables. Pure.
public enum Columns {
    /// Left-aligned in `width`, cut with `…` when longer.
    public static func left(_ s: String, _ width: Int) -> String {
        guard width > 0 else { return "" }
        if s.count > width { return String(s.prefix(max(width - 1, 0))) + (width > 1 ? "…" : "") }
        return s + String(repeating: " ", count: width - s.count)
    }

    /// Right-aligned in `width`.
    public static func right(_ s: String, _ width: Int) -> String {
        guard width > 0 else { return "" }
        if s.count >= width { return String(s.suffix(width)) }
        return String(repeating: " ", count: width - s.count) + s
    }
}
