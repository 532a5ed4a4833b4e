/// The per-route columns of the text dumps, defined once: the CSV writes every column, the
/// table the ones with a width. A new per-route figure is one entry here. Pure.
public struct RouteColumn: Sendable {
    /// CSV header name.
    public var key: String
    /// Table header and width; nil leaves the column out of the table.
    public var table: (header: String, width: Int, leftAligned: Bool)?
    /// The value as CSV text.
    public var csv: @Sendable (RouteFigures) -> String
    /// The value as table text (defaults to the CSV text).
    public var text: @Sendable (RouteFigures) -> String

    init(_ key: String, table: (String, Int, Bool)? = nil, csv: @escaping @Sendable (RouteFigures) -> String, text: (@Sendable (RouteFigures) -> String)? = nil) {
        self.key = key
        self.table = table.map { (header: $0.0, width: $0.1, leftAligned: $0.2) }
        self.csv = csv
        self.text = text ?? csv
    }

    /// Every column, in order.
    public static let all: [RouteColumn] = [
        RouteColumn("method", csv: { $0.method }),
        RouteColumn("route", table: ("ROUTE", 14, true), csv: { SnapshotCSV.field($0.path) }, text: { $0.path }),
        RouteColumn("model", table: ("model", 10, true), csv: { $0.model.rawValue }),
        RouteColumn("requests", csv: { String($0.requests) }),
        RouteColumn("in_flight", csv: { String($0.inFlight) }),
        RouteColumn("rate_1s", csv: { SnapshotCSV.format2($0.rate1s) }),
        RouteColumn("rate_10s", table: ("req/s", 7, false), csv: { SnapshotCSV.format2($0.rate10s) }, text: { Units.rate($0.rate10s) }),
        RouteColumn("p50_us", table: ("p50", 9, false), csv: { String($0.latency.last10s.p50) }, text: { Units.micros($0.latency.last10s.p50) }),
        RouteColumn("p90_us", csv: { String($0.latency.last10s.p90) }),
        RouteColumn("p99_us", table: ("p99", 9, false), csv: { String($0.latency.last10s.p99) }, text: { Units.micros($0.latency.last10s.p99) }),
        RouteColumn("p999_us", csv: { String($0.latency.last10s.p999) }),
        RouteColumn("max_us", table: ("max", 9, false), csv: { String($0.latency.last10s.max) }, text: { Units.micros($0.latency.last10s.max) }),
        RouteColumn("errors_5xx", table: ("5xx", 6, false), csv: { String($0.status.s5xx) }),
        RouteColumn("class", table: ("  class", 11, true), csv: { $0.workClass.rawValue }, text: { "  " + $0.workClass.rawValue }),
        RouteColumn("held_per_request_us", table: ("held", 8, false), csv: { SnapshotCSV.format2($0.held.perRequestMicros) }, text: { Units.micros($0.held.perRequestMicros) }),
        RouteColumn("held_async_us", csv: { SnapshotCSV.format2($0.held.asyncMicros) }),
    ] + LatencySplit.Part.allCases.map { part in
        RouteColumn(part.column.key, table: part.column.tableHeader.map { ($0, 8, false) },
                    csv: { SnapshotCSV.format2($0.split[part]) }, text: { Units.micros($0.split[part]) })
    } + RequestMeasure.allCases.map { measure in
        let about = measure.about
        return RouteColumn(about.key, table: about.header.map { ($0, 9, false) },
                           csv: { SnapshotCSV.format2($0.perRequest[measure]) }, text: { about.unit.text($0.perRequest[measure]) })
    }
}
