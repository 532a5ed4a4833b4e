/// What `loopscope load` sends: a weighted mix of paths, open or closed loop. Pure value.
public struct LoadPlan: Sendable, Equatable, Codable {
    public enum Mode: Sendable, Equatable, Codable {
        /// Constant arrival rate (requests per second, all paths together); latency is measured
        /// from each request's intended send time, so a stalled server cannot hide (as wrk2).
        case open(rate: Double)
        /// `concurrency` requests in flight, each sent when the previous one returns (as wrk).
        case closed(concurrency: Int)
    }

    public struct Entry: Sendable, Equatable, Codable {
        public var path: String
        public var weight: Int
    }

    public var host: String
    public var port: Int
    public var mix: [Entry]
    public var mode: Mode
    /// Keep-alive connections.
    public var connections: Int
    public var durationSeconds: Double
    /// Stop after this many requests, if set.
    public var maxRequests: Int?
    /// Open loop: random (Poisson) arrivals and a random path per request, instead of evenly
    /// spaced sends interleaving the paths. Real traffic bunches up; this shows queueing.
    public var poisson: Bool
    /// Keep each second's latencies (open loop) for `LoadReport.Row.typicalP99`: a few bytes
    /// a request, so for the demo's rates, not a benchmark's.
    public var perSecond = false

    public init(host: String = "127.0.0.1", port: Int, mix: [Entry], mode: Mode, connections: Int, durationSeconds: Double, maxRequests: Int? = nil, poisson: Bool = false) {
        self.poisson = poisson
        self.host = host
        self.port = port
        self.mix = mix
        self.mode = mode
        self.connections = connections
        self.durationSeconds = durationSeconds
        self.maxRequests = maxRequests
    }

    /// Parses `/hello:3,/hash:1` (weight defaults to 1).
    public static func parseMix(_ text: String) throws(LoadError) -> [Entry] {
        var out: [Entry] = []
        for part in text.split(separator: ",") {
            let bits = part.split(separator: ":", maxSplits: 1)
            let path = String(bits[0]).trimmingSpaces
            guard path.hasPrefix("/") else { throw LoadError("'\(path)' must start with /") }
            var weight = 1
            if bits.count == 2 {
                guard let w = Int(bits[1]), w >= 1, w <= 1000 else { throw LoadError("weight of \(path) must be 1...1000, got '\(bits[1])'") }
                weight = w
            }
            out.append(Entry(path: path, weight: weight))
        }
        guard !out.isEmpty else { throw LoadError("the mix is empty; give paths like /hello:3,/hash:1") }
        return out
    }

    /// A random entry index drawn by weight, from `u` in [0, 1).
    public func pathIndex(uniform u: Double) -> Int {
        let total = Double(mix.reduce(0) { $0 + $1.weight })
        var acc = 0.0
        for (i, e) in mix.enumerated() {
            acc += Double(e.weight) / total
            if u < acc { return i }
        }
        return mix.count - 1
    }

    /// One cycle of entry indices: each entry's turns spread evenly over the cycle.
    public var schedule: [Int] {
        var order: [(Double, Int)] = []
        for (i, e) in mix.enumerated() {
            for k in 0..<e.weight { order.append(((Double(k) + 0.5) / Double(e.weight), i)) }
        }
        return order.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }.map(\.1)
    }
}

/// The load generator's error.
public struct LoadError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
