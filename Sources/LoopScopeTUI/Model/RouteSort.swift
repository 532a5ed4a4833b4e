import LoopScopeWire

/// The routes table's sort order. Pure.
public struct RouteSort: Equatable, Sendable {
    public enum Column: String, CaseIterable, Sendable {
        case route, model, rate, p50, p99, max, errors, workClass = "class", held
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
        column = all[(all.firstIndex(of: column)! + 1) % all.count]
        descending = ![.route, .model, .workClass].contains(column)
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
            }
        }
        return descending ? asc.reversed() : asc
    }
}
