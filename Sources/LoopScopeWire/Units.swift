/// Human formatting of the figures, shared by every text view. Pure.
public enum Units {
    /// Microseconds as `0.2ms`, `41.2ms`, `1.2s`; `-` for none.
    public static func micros(_ us: Double, empty: String = "-") -> String {
        if us <= 0 { return empty }
        if us < 100 { return String(Int(us.rounded())) + "µs" }
        if us < 1_000 { return fixed1(us / 1000) + "ms" }
        if us < 100_000 { return fixed1(us / 1000) + "ms" }
        if us < 1_000_000 { return String(Int((us / 1000).rounded())) + "ms" }
        return fixed1(us / 1_000_000) + "s"
    }

    public static func micros(_ us: UInt64, empty: String = "-") -> String { micros(Double(us), empty: empty) }

    /// A rate: `830`, `1,830`, `12.5k`.
    public static func rate(_ r: Double) -> String {
        if r < 10 && r != r.rounded() { return fixed1(r) }
        if r < 100_000 { return grouped(Int(r.rounded())) }
        return fixed1(r / 1000) + "k"
    }

    /// `1,234,567`.
    public static func grouped(_ n: Int) -> String {
        let digits = String(abs(n))
        var out = ""
        for (i, c) in digits.reversed().enumerated() {
            if i > 0 && i % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + String(out.reversed())
    }

    /// Seconds as `00:03:12` (or `2d 03:12:00`).
    /// The time of day (UTC) of `t`, seconds since the Unix epoch: `17:45:03Z`.
    public static func clock(_ t: Double) -> String {
        let s = Int(t) % 86_400
        return pad2(s / 3600) + ":" + pad2(s / 60 % 60) + ":" + pad2(s % 60) + "Z"
    }

    public static func uptime(_ seconds: Double) -> String {
        let s = max(0, Int(seconds))
        let d = s / 86_400, h = (s / 3600) % 24, m = (s / 60) % 60, sec = s % 60
        let hms = pad2(h) + ":" + pad2(m) + ":" + pad2(sec)
        return d > 0 ? "\(d)d \(hms)" : hms
    }

    /// Bytes as `12.3 MB`.
    public static func bytes(_ b: UInt64) -> String {
        let v = Double(b)
        if v < 1024 { return "\(b) B" }
        if v < 1024 * 1024 { return fixed1(v / 1024) + " KB" }
        if v < 1024 * 1024 * 1024 { return fixed1(v / 1024 / 1024) + " MB" }
        return fixed1(v / 1024 / 1024 / 1024) + " GB"
    }

    /// `s` left-aligned in `n` columns (at least one space after it).
    /// A share (0…1) as a whole percentage, `73%`; `empty` when unknown.
    public static func percent(_ share: Double?, empty: String = "-") -> String {
        share.map { "\(Int(($0 * 100).rounded()))%" } ?? empty
    }

    public static func padRight(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }

    /// `s` right-aligned in `n` columns (at least one space before it).
    public static func padLeft(_ s: String, _ n: Int) -> String { s.count >= n ? " " + s : String(repeating: " ", count: n - s.count) + s }

    public static func fixed1(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        let whole = Int(r)
        let tenth = Int((abs(r - Double(whole)) * 10).rounded())
        return (r < 0 && whole == 0 ? "-" : "") + "\(whole).\(tenth)"
    }

    private static func pad2(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
}
