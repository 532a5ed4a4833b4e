import LoopScopeWire

/// The routes table's sort order. Pure.
public struct RouteSort: Equatable, Sendable {
    /// A column of the routes table; the request measures with a table header follow the fixed
    /// columns, in `RequestMeasure` order.
    public enum Column: Hashable, Sendable, CaseIterable {
        case route, model, rate, p50, p99, max, errors, workClass, held
        case measure(RequestMeasure)

        public static var allCases: [Column] {
            [.route, .model, .rate, .p50, .p99, .max, .errors, .workClass, .held]
                + RequestMeasure.allCases.filter { $0.about.header != nil }.map(Column.measure)
        }

        /// What the status line calls it when the sort changes.
        public var name: String {
            switch self {
            case .route: return "route"
            case .model: return "execution model"
            case .rate: return "requests per second"
            case .p50: return "p50 latency"
            case .p99: return "p99 latency"
            case .max: return "max latency"
            case .errors: return "5xx responses"
            case .workClass: return "work class"
            case .held: return "time held per request"
            case .measure(let m): return "\(m.about.name) per request"
            }
        }

        /// Names sort A→Z first; numbers sort highest (worst) first.
        var isName: Bool { [.route, .model, .workClass].contains(self) }
    }

    public var column: Column = .route
    public var descending = false

    public init(column: Column = .route, descending: Bool = false) {
        self.column = column
        self.descending = descending
    }

    /// The next column; numeric columns start descending (worst first), names ascending.
    public mutating func next() {
        let all = Column.allCases
        column = all[((all.firstIndex(of: column) ?? -1) + 1) % all.count]
        descending = !column.isName
    }

    /// `routes by p99 latency, highest first`: what the status line says after a change.
    public var described: String {
        let order = column.isName ? (descending ? "Z→A" : "A→Z") : (descending ? "highest first" : "lowest first")
        return "routes by \(column.name), \(order)"
    }

    public func sorted(_ routes: [RouteFigures]) -> [RouteFigures] {
        let asc = routes.sorted { a, b in
            switch column {
            case .route: return a.path < b.path
            case .model: return (a.model.rawValue, a.path) < (b.model.rawValue, b.path)
            case .rate: return a.rate10s < b.rate10s
            case .p50: return a.latency.last10s.p50 < b.latency.last10s.p50
            case .p99: return a.latency.last10s.p99 < b.latency.last10s.p99
            case .max: return a.latency.last10s.max < b.latency.last10s.max
            case .errors: return a.status.s5xx < b.status.s5xx
            case .workClass: return (a.workClass.rawValue, a.path) < (b.workClass.rawValue, b.path)
            case .held: return a.held.perRequestMicros < b.held.perRequestMicros
            case .measure(let m): return (a.perRequest[m], a.path) < (b.perRequest[m], b.path)
            }
        }
        return descending ? asc.reversed() : asc
    }
}
