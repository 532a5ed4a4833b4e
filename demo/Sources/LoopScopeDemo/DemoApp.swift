import LoopScopeRuntime
import LoopScopeAgent
import LoopScopeWire

/// The demo application's routes: one per kind of work in the article, all starting on the
/// event loop (the "fake async" default) so the dashboard has something to fix.
public enum DemoApp {
    /// - Parameter upstream: the client `/fanout` and `/mixed` call.
    public static func routes(upstream: UpstreamClient) throws -> [Route] {
        [
            try Route("/hello", model: .loop, job: DemoJobs.hello),
            try Route("/hash", model: .loop, job: DemoJobs.hash),
            try Route("/report", model: .loop, job: DemoJobs.report),
            try Route("/sleep", model: .loop, job: DemoJobs.sleep),
            try Route("/db", model: .loop, job: DemoDatabase.queryJob),
            try Route("/fanout", model: .loop, job: DemoJobs.merge, prepare: { request in
                async let a = upstream.get("/a")
                async let b = upstream.get("/b")
                async let c = upstream.get("/c")
                do {
                    return JobInput(parameters: request.parameters, body: try await a + b + c)
                } catch {
                    throw upstreamFailure(error)
                }
            }),
            // The same three calls awaited one after the other: its I/O is their sum, where
            // /fanout's is the slowest of them.
            try Route("/fanout-serial", model: .loop, job: DemoJobs.merge, prepare: { request in
                do {
                    let a = try await upstream.get("/a")
                    let b = try await upstream.get("/b")
                    let c = try await upstream.get("/c")
                    return JobInput(parameters: request.parameters, body: a + b + c)
                } catch {
                    throw upstreamFailure(error)
                }
            }),
            try Route("/mixed", model: .loop, job: DemoJobs.digest, prepare: { request in
                do {
                    return JobInput(parameters: request.parameters, body: try await upstream.get("/mixed"))
                } catch {
                    throw upstreamFailure(error)
                }
            }),
            try Route("/where", model: .loop, job: DemoJobs.whereAmI),
        ] + (try FakeAsync.routes())
    }

    /// A failed upstream call as the route answers it: 504 when it timed out (counted as an
    /// `upstream call` timeout), else 502.
    static func upstreamFailure(_ error: any Error) -> HTTPError {
        if let reason = (error as? any TimeoutReporting)?.timeoutReason { return HTTPError(status: 504, "\(error)", timeoutReason: reason) }
        return HTTPError(status: 502, "\(error)")
    }
}
