/// Numbers a request reports besides its time — the size of its body, … — shown per route as
/// means per request over the last ten seconds.
///
/// Each is declared once, in this file: a case here with its description, and its property of
/// `PerRequestMeans` (the wire field). The request's value (`RequestMeasures`, set by the code
/// that measures it), the sums, the route's means, the CSV and table columns, the Prometheus
/// family, a group's merge, the dashboard's column, sort key and route detail line follow from it.
/// A new measure touches this file and the code that measures it (see docs/ARCHITECTURE.md).
public enum RequestMeasure: Int, CaseIterable, Sendable {
    case requestBytes, responseBytes

    /// Everything said of a measure, once.
    public struct About: Sendable {
        /// The name people read (`request body`).
        public var name: String
        public var unit: Unit
        /// Its CSV column and, as `route_<key>`, its Prometheus family (`request_bytes`).
        public var key: String
        /// Its header in the text table and the dashboard's route table (wide terminals); nil
        /// leaves it to the CSV, Prometheus and the route's detail.
        public var header: String?
        /// What it covers: the Prometheus HELP text and the documentation.
        public var help: String
        /// The route's mean, on the wire.
        public var figure: WritableKeyPath<PerRequestMeans, Double> & Sendable
    }

    public var about: About {
        switch self {
        case .requestBytes:
            return About(name: "request body", unit: .bytes, key: "request_bytes", header: "in/req",
                         help: "Mean size of a request's body, bytes, last 10 s (Hummingbird: its content-length; 0 when absent).",
                         figure: \.requestBytes)
        case .responseBytes:
            return About(name: "response body", unit: .bytes, key: "response_bytes", header: "out/req",
                         help: "Mean size of a response's body, bytes, last 10 s (Hummingbird: its content-length; streamed bodies without one are not counted).",
                         figure: \.responseBytes)
        }
    }

    /// How a measure's value reads.
    public enum Unit: Sendable {
        case bytes, count

        public func text(_ v: Double) -> String {
            switch self {
            case .bytes: return Units.bytes(UInt64(max(0, v.rounded())))
            case .count: return Units.fixed1(v)
            }
        }
    }

    /// The most measures a request carries (`RequestMeasures` holds them in a fixed-size vector).
    public static let capacity = SIMD8<Double>.scalarCount
}

/// A route's means per request of each `RequestMeasure`, over the last ten seconds (of the
/// requests that reported it; 0 when none did).
public struct PerRequestMeans: Codable, Sendable, Equatable, PublicMemberwiseInit, AbsentAsDefault {
    /// Bytes of the request's body.
    @AddedLater public var requestBytes: Double = 0
    /// Bytes of the response's body.
    @AddedLater public var responseBytes: Double = 0

    public static var whenAbsent: PerRequestMeans { PerRequestMeans() }

    public subscript(measure: RequestMeasure) -> Double {
        get { self[keyPath: measure.about.figure] }
        set { self[keyPath: measure.about.figure] = newValue }
    }

    /// The measures with a value, in order, as `request body 1.2 KB`.
    public var described: [String] {
        RequestMeasure.allCases.filter { self[$0] > 0 }.map { "\($0.about.name) \($0.about.unit.text(self[$0]))" }
    }

    private init(_ generated: Never) { switch generated {} }
}

/// What one request reported of each `RequestMeasure`. A plain value in fixed-size vectors: no
/// allocation on the request path.
public struct RequestMeasures: Sendable, Equatable {
    /// Each measure's value, by `RequestMeasure.rawValue`.
    public private(set) var values = SIMD8<Double>()
    /// 1 where the request reported the measure, by `RequestMeasure.rawValue`.
    public private(set) var reported = SIMD8<Double>()

    public init() {}

    /// The request's value of `measure`; nil when it did not report it. Setting nil unsets it.
    public subscript(measure: RequestMeasure) -> Double? {
        get { reported[measure.rawValue] > 0 ? values[measure.rawValue] : nil }
        set {
            values[measure.rawValue] = newValue ?? 0
            reported[measure.rawValue] = newValue == nil ? 0 : 1
        }
    }
}
