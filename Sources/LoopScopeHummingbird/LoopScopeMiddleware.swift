import Hummingbird
import LoopScopeAgent
import LoopScopeWire

/// Records every request of a Hummingbird router with a `LoopScopeAgent`, by route template
/// (`/users/{id}`, never the raw path; unmatched requests share `NotFound`): rate, status
/// classes, in flight, latency, and — when the handler never awaited, so it held a
/// cooperative-pool thread throughout (CPU work or a blocking call in an async handler: fake
/// async) — that held time and its CPU time, charged to the route (class `cpu` or `blocking`,
/// culprit on `tasks`, stall sites named while the pool is stalled).
///
/// ```swift
/// let agent = try await LoopScopeAgent.start(name: "my-app", watching: MultiThreadedEventLoopGroup.singleton)
/// let router = Router()
/// router.add(middleware: LoopScopeMiddleware(agent: agent))   // before the routes it measures
/// ```
public struct LoopScopeMiddleware<Context: RequestContext>: RouterMiddleware {
    let agent: LoopScopeAgent

    public init(agent: LoopScopeAgent) {
        self.agent = agent
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // Router middleware runs after the route is resolved, so the template is known here.
        // Unmatched requests share one entry whatever their method, so clients cannot flood the table.
        let route = context.endpointPath.map { agent.route(method: request.method.rawValue, template: $0) } ?? agent.route(method: "*", template: "NotFound")
        let requestBytes = request.headers[.contentLength].flatMap { Double($0) }
        return try await agent.measureRequest(route, status: { Int($0.status.code) }, errorStatus: Self.status(of:), measures: { response in
            var measures = RequestMeasures()
            measures[.requestBytes] = requestBytes ?? 0
            measures[.responseBytes] = response?.body.contentLength.map(Double.init)
            return measures
        }) {
            try await next(request, context)
        }
    }

    static func status(of error: any Error) -> Int {
        (error as? any HTTPResponseError).map { Int($0.status.code) } ?? 500
    }
}
