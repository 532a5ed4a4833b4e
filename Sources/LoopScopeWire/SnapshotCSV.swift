import Foundation

/// A snapshot as CSV: one row per route. Pure.
public enum SnapshotCSV {
    /// Snapshot columns, then every route column (`RouteColumn.all`).
    public static let header = (["time", "server"] + RouteColumn.all.map(\.key)).joined(separator: ",")

    public static func rows(_ s: Snapshot) -> [String] {
        s.routes.map { r in ([format2(s.time), field(s.server.name)] + RouteColumn.all.map { $0.csv(r) }).joined(separator: ",") }
    }

    public static func render(_ s: Snapshot, includeHeader: Bool = true) -> String {
        ((includeHeader ? [header] : []) + rows(s)).joined(separator: "\n") + "\n"
    }

    static func field(_ s: String) -> String {
        guard s.contains(",") || s.contains("\"") || s.contains("\n") else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func format2(_ v: Double) -> String {
        let r = (v * 100).rounded() / 100
        return r == r.rounded() && abs(r) < 1e15 ? String(Int64(r)) : String(r)
    }
}
