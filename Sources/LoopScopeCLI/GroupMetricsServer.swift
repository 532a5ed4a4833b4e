import NIOCore
import NIOPosix
import LoopScopeClient
import LoopScopeDemo
import LoopScopeWire

/// `serve --workers N --metrics-port P`: the supervisor's Prometheus endpoint for the whole
/// group. Through the shared port a scrape reaches one worker at a time (each worker's series
/// would come and go); here every scrape asks each worker's control socket for its snapshot at
/// once (each call bounded) and answers all of them in one exposition, each series labelled
/// with its `worker`, plus `loopscope_worker_up` (0 for a worker that did not answer in time:
/// restarting, or stuck).
enum GroupMetricsServer {
    /// How long a scrape waits for one worker's snapshot.
    static let workerTimeout: Duration = .seconds(2)

    static func start(host: String, port: Int, group: String, directory: String, workers: Int, serverName: String) async throws -> SmallHTTPServer {
        try await SmallHTTPServer.start(host: host, port: port, group: MultiThreadedEventLoopGroup.singleton) { head, loop in
            guard head.method == .GET, head.uri.split(separator: "?").first == "/metrics" else {
                return loop.makeSucceededFuture(SmallHTTPServer.Response(status: .notFound, body: "only GET /metrics is served here\n"))
            }
            return loop.makeFutureWithTask {
                SmallHTTPServer.Response(contentType: "text/plain; version=0.0.4; charset=utf-8",
                                         body: await scrape(group: group, directory: directory, workers: workers, serverName: serverName))
            }
        }
    }

    /// Every worker's series, in one exposition.
    static func scrape(group: String, directory: String, workers: Int, serverName: String) async -> String {
        let members = (try? ServerLocator.members(of: group, directory: directory)) ?? []
        let outcomes = await FanOut.run(members.indices.map { $0 }) { i in
            let client = try await ControlClient.connect(path: members[i].socket, client: "loopscope metrics", timeout: workerTimeout)
            defer { Task { await client.close() } }
            return try await client.snapshot()
        }
        let snapshots = outcomes.compactMap { try? $0.result.get() }
        let answered = Set(snapshots.compactMap { $0.server.member?.worker })
        return PrometheusText.render(snapshots, workersUp: (0..<workers).map { (serverName, $0, answered.contains($0)) })
    }
}
