/// How a route's recent errors and slow requests read, in one line each: the dashboard's route
/// detail, `dump --format table` and `loopscope log` print them alike. Pure.
public enum RequestLog {
    /// `504 ×12 no postgres connection free within 2000 ms`
    public static func describe(_ e: RouteError) -> String {
        "\(e.status) ×\(e.count) \(e.message)"
    }

    /// `412ms (over 356ms): pool wait 398ms · I/O 13ms`
    public static func describe(_ q: SlowRequest) -> String {
        "\(Units.micros(q.latencyMicros)) (over \(Units.micros(q.thresholdMicros))): " + parts(q.split) + (q.status >= 400 ? " → \(q.status)" : "")
    }

    /// `deadline 3 · postgres connection wait 12`
    public static func describe(_ timeouts: [TimeoutCount]) -> String {
        timeouts.map { "\($0.reason) \($0.count)" }.joined(separator: " · ")
    }

    /// A split, largest part first, parts of zero left out.
    public static func parts(_ split: LatencySplit) -> String {
        let nonzero = split.parts.filter { $0.micros > 0 }.sorted { $0.micros > $1.micros }
        return nonzero.isEmpty ? "split not measured" : nonzero.map { "\($0.name) \(Units.micros($0.micros))" }.joined(separator: " · ")
    }

    /// Every route's errors and slow requests in `s`, newest first: (time, route, kind, text).
    public static func entries(_ s: Snapshot) -> [(time: Double, route: String, kind: Kind, text: String)] {
        s.routes.flatMap { r in entries(of: r).map { (time: $0.time, route: "\(r.method) \(r.path)", kind: $0.kind, text: $0.text) } }
            .sorted { $0.time > $1.time }
    }

    /// One route's errors and slow requests, newest first: (time, kind, text).
    public static func entries(of r: RouteFigures) -> [(time: Double, kind: Kind, text: String)] {
        let errors = (r.recentErrors ?? []).map { (time: $0.lastSeen, kind: Kind.error, text: describe($0)) }
        let slow = (r.slowRequests ?? []).map { (time: $0.time, kind: Kind.slow, text: describe($0)) }
        return (errors + slow).sorted { $0.time > $1.time }
    }

    /// What a line is about.
    public enum Kind: String, Sendable {
        case error = "5xx"
        case slow
    }
}

/// What `loopscope log` has printed, so each look prints only what is new. Pure.
public struct LogFollower {
    private var errorCounts: [String: UInt64] = [:]
    private var slowSeen: Set<String> = []
    private var lastEvent: UInt64 = 0

    /// Lines for what `s` has that earlier snapshots did not, oldest first.
    public init() {}

    public mutating func newLines(_ s: Snapshot) -> [String] {
        var out: [(time: Double, text: String)] = []
        for r in s.routes {
            let route = "\(r.method) \(r.path)"
            for e in r.recentErrors ?? [] {
                let key = "\(route) \(e.status) \(e.message)"
                let before = errorCounts[key] ?? 0
                guard e.count > before else { continue }
                errorCounts[key] = e.count
                var shown = e
                shown.count = e.count - before
                out.append((e.lastSeen, "\(Units.clock(e.lastSeen))  \(RequestLog.Kind.error.rawValue)   \(route)  \(RequestLog.describe(shown))"))
            }
            for q in r.slowRequests ?? [] {
                let key = "\(route) \(q.time) \(q.latencyMicros)"
                guard slowSeen.insert(key).inserted else { continue }
                out.append((q.time, "\(Units.clock(q.time))  \(RequestLog.Kind.slow.rawValue)  \(route)  \(RequestLog.describe(q))"))
            }
        }
        for e in s.events where e.sequence > lastEvent {
            out.append((e.time, "\(Units.clock(e.time))  event \(e.summary)  (\(e.actor))"))
        }
        lastEvent = max(lastEvent, s.events.map(\.sequence).max() ?? 0)
        // A route keeps its last few slow requests; forget the ones it no longer has.
        let kept = Set(s.routes.flatMap { r in (r.slowRequests ?? []).map { "\(r.method) \(r.path) \($0.time) \($0.latencyMicros)" } })
        slowSeen.formIntersection(kept)
        return out.sorted { $0.time < $1.time }.map(\.text)
    }
}
