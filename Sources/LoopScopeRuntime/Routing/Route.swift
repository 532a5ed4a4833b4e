import LoopScopeWire
import LoopScopeAgent
import NIOCore

/// One route: a method and template, and a pipeline of asynchronous I/O stages around one
/// compute stage whose placement is the route's execution model.
///
/// - `prepare` (optional) runs first, awaiting I/O without blocking a thread, and produces the
///   compute stage's input. Without it the input is the request's parameters and body.
/// - `job` is the compute stage; it runs where the route's model says.
/// - `respond` (optional) runs last, awaiting I/O, and turns the output into a response.
///   Without it the output is sent as a 200 with `contentType`.
public struct Route: Sendable {
    public var method: String
    public var template: RouteTemplate
    /// The model new requests start with; changeable at runtime.
    public var model: ExecutionModel
    public var job: ComputeJob
    public var prepare: (@Sendable (RequestContext) async throws -> JobInput)?
    public var respond: (@Sendable (RequestContext, [UInt8]) async throws -> HTTPResult)?
    public var contentType: String

    public init(
        _ path: String, method: String = "GET", model: ExecutionModel = .loop, job: ComputeJob,
        contentType: String = "text/plain; charset=utf-8",
        prepare: (@Sendable (RequestContext) async throws -> JobInput)? = nil,
        respond: (@Sendable (RequestContext, [UInt8]) async throws -> HTTPResult)? = nil
    ) throws(RuntimeError) {
        self.method = method.uppercased()
        self.template = try RouteTemplate(path)
        self.model = model
        self.job = job
        self.contentType = contentType
        self.prepare = prepare
        self.respond = respond
    }

    /// A request not answered within this is answered 504 at once (its work, if it runs on,
    /// is no longer waited for; an I/O stage's task is cancelled) and counted as a `deadline`
    /// timeout; nil: the server's `routeTimeout`. Work on the event loop is not interrupted.
    public var timeout: TimeAmount? = nil

    /// Whether the route has I/O stages (and so runs its pipeline in a task).
    var hasIOStages: Bool { prepare != nil || respond != nil }
}

/// What a route's stages see of the request.
public struct RequestContext: Sendable {
    public var method: String
    /// The request target's path, without the query.
    public var path: String
    /// Query parameters; a repeated name keeps its last value.
    public var query: [String: String]
    /// Values of the template's `:name` segments.
    public var pathParameters: [String: String]
    public var body: [UInt8]

    /// Query and path parameters together, path parameters winning.
    public var parameters: [String: String] { Self.parameters(query: query, path: pathParameters) }

    /// Query and path parameters together, path parameters winning.
    static func parameters(query: [String: String], path: [String: String]) -> [String: String] {
        path.isEmpty ? query : query.merging(path) { _, p in p }
    }

    /// The default compute input: parameters and body.
    public var defaultInput: JobInput { JobInput(parameters: parameters, body: body) }
}

/// A response produced by a route's `respond` stage.
public struct HTTPResult: Sendable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]

    public init(status: Int = 200, contentType: String = "text/plain; charset=utf-8", body: [UInt8]) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }

    public init(status: Int = 200, text: String) {
        self.init(status: status, body: Array(text.utf8))
    }
}

/// Thrown by a route's I/O stages to answer with a given status.
public struct HTTPError: Error, Sendable, TimeoutReporting {
    public var status: Int
    public var message: String
    /// When the error is a timeout, what timed out (the route's timeouts count it so).
    public var timeoutReason: String?

    public init(status: Int, _ message: String, timeoutReason: String? = nil) {
        self.status = status
        self.message = message
        self.timeoutReason = timeoutReason
    }
}
