/// One request line from a client, as it appears on the wire.
///
/// Every field but `op` is optional here; `Command.init(request:)` checks which the operation needs.
public struct ControlRequest: Codable, Sendable, Equatable, PublicMemberwiseInit {
    /// Chosen by the client; echoed in the reply.
    public var id: Int?
    public var op: String
    public var versions: [Int]?
    public var client: String?
    public var intervalMs: Int?
    public var route: String?
    public var method: String?
    public var model: String?
    public var pool: String?
    public var size: Int?
    public var limit: Int?
    public var diagnosis: String?
    public var since: UInt64?
    public var thresholdMs: Int?
    /// `subscribe`: send a short `unchanged` line instead of a frame whose figures are the
    /// previous frame's (see `UnchangedFrame`).
    public var skipUnchanged: Bool?

    private init(_ generated: Never) { switch generated {} }
}

/// A validated request: what the client asked the server to do.
public enum Command: Sendable, Equatable {
    case hello(versions: [Int], client: String?)
    case snapshot
    /// Streams a frame every `intervalMs`; with `skipUnchanged`, an `unchanged` line instead of
    /// a frame whose figures did not move since the last one sent.
    case subscribe(intervalMs: Int, skipUnchanged: Bool = false)
    case unsubscribe
    case route(method: String, path: String, model: ExecutionModel)
    case resize(pool: String, size: Int)
    case limit(pool: String, limit: Int)
    case fix(diagnosis: String)
    case events(since: UInt64)
    /// Sets how long an executor must be busy before the watchdog samples its threads.
    case stallThreshold(millis: Int)

    /// Operation names, as on the wire.
    public enum Op: String, CaseIterable, Sendable {
        case hello, snapshot, subscribe, unsubscribe, route, resize, limit, fix, events
        case stallThreshold = "stall-threshold"
    }

    /// Every operation name, as on the wire.
    public static let operations = Op.allCases.map(\.rawValue)


    /// Whether the command changes the server (refused on read-only connections).
    public var mutates: Bool {
        switch self {
        case .route, .resize, .limit, .fix, .stallThreshold: return true
        case .hello, .snapshot, .subscribe, .unsubscribe, .events: return false
        }
    }

    /// Validates a wire request. Range checks that need no server state happen here.
    public init(request r: ControlRequest) throws(WireError) {
        func need<T>(_ value: T?, _ field: String) throws(WireError) -> T {
            guard let value else { throw WireError(.badRequest, "'\(r.op)' needs the field '\(field)'") }
            return value
        }
        guard let op = Op(rawValue: r.op) else {
            throw WireError(.unknownOp, "unknown op '\(r.op)'; ops: \(Command.operations.joined(separator: ", "))")
        }
        switch op {
        case .hello:
            self = .hello(versions: try need(r.versions, "versions"), client: r.client)
        case .snapshot:
            self = .snapshot
        case .subscribe:
            let interval = try need(r.intervalMs, "intervalMs")
            guard Limit.subscriptionIntervalMillis.contains(interval) else { throw WireError(.outOfRange, Limit.subscriptionIntervalMillis.refusal("intervalMs", interval)) }
            self = .subscribe(intervalMs: interval, skipUnchanged: r.skipUnchanged ?? false)
        case .unsubscribe:
            self = .unsubscribe
        case .route:
            let path = try need(r.route, "route")
            let name = try need(r.model, "model")
            guard let model = ExecutionModel(rawValue: name) else {
                throw WireError(.badRequest, "unknown model '\(name)'; models: \(ExecutionModel.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            self = .route(method: (r.method ?? "GET").uppercased(), path: path, model: model)
        case .resize:
            let pool = try need(r.pool, "pool")
            let size = try need(r.size, "size")
            guard Limit.poolSize.contains(size) else { throw WireError(.outOfRange, Limit.poolSize.refusal("size", size)) }
            self = .resize(pool: pool, size: size)
        case .limit:
            let pool = try need(r.pool, "pool")
            let limit = try need(r.limit, "limit")
            guard Limit.queueLimit.contains(limit) else { throw WireError(.outOfRange, Limit.queueLimit.refusal("limit", limit)) }
            self = .limit(pool: pool, limit: limit)
        case .fix:
            self = .fix(diagnosis: try need(r.diagnosis, "diagnosis"))
        case .events:
            self = .events(since: r.since ?? 0)
        case .stallThreshold:
            let ms = try need(r.thresholdMs, "thresholdMs")
            guard Limit.stallThresholdMillis.contains(ms) else { throw WireError(.outOfRange, Limit.stallThresholdMillis.refusal("thresholdMs", ms)) }
            self = .stallThreshold(millis: ms)
        }
    }

    /// The wire form of this command.
    public func request(id: Int?) -> ControlRequest {
        switch self {
        case .hello(let versions, let client): return ControlRequest(id: id, op: "hello", versions: versions, client: client)
        case .snapshot: return ControlRequest(id: id, op: "snapshot")
        case .subscribe(let ms, let skip): return ControlRequest(id: id, op: "subscribe", intervalMs: ms, skipUnchanged: skip ? true : nil)
        case .unsubscribe: return ControlRequest(id: id, op: "unsubscribe")
        case .route(let method, let path, let model): return ControlRequest(id: id, op: "route", route: path, method: method, model: model.rawValue)
        case .resize(let pool, let size): return ControlRequest(id: id, op: "resize", pool: pool, size: size)
        case .limit(let pool, let limit): return ControlRequest(id: id, op: "limit", pool: pool, limit: limit)
        case .fix(let diagnosis): return ControlRequest(id: id, op: "fix", diagnosis: diagnosis)
        case .events(let since): return ControlRequest(id: id, op: "events", since: since)
        case .stallThreshold(let ms): return ControlRequest(id: id, op: Op.stallThreshold.rawValue, thresholdMs: ms)
        }
    }
}
