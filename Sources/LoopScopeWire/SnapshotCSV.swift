import Foundation

/// A snapshot as CSV: one row per route. Pure.
public enum SnapshotCSV {
    public static let header = "time,server,method,route,model,requests,in_flight,rate_1s,rate_10s,p50_us,p90_us,p99_us,p999_us,max_us,errors_5xx,class,held_per_request_us,queue_us,compute_us,io_us"

    public static func rows(_ s: Snapshot) -> [String] {
        s.routes.map { r in
            let l = r.latency.last10s
            let fields: [String] = [
                String(format2(s.time)), field(s.server.name), r.method, field(r.path), r.model.rawValue,
                String(r.requests), String(r.inFlight), format2(r.rate1s), format2(r.rate10s),
                String(l.p50), String(l.p90), String(l.p99), String(l.p999), String(l.max),
                String(r.status.s5xx), r.workClass.rawValue, format2(r.held.perRequestMicros),
                format2(r.split.queueMicros), format2(r.split.computeMicros), format2(r.split.ioMicros),
            ]
            return fields.joined(separator: ",")
        }
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
