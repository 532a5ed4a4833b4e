import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Testing
@testable import LoopScopeAgent
import LoopScopeDemo
import LoopScopeWire

/// A real PostgreSQL (a private cluster from Debian's package) behind a `ConnectionPool` too
/// small for its callers: their wait is the route's pool wait, and the diagnosis sizes the pool.
@Suite(.serialized) struct PostgresPoolTests {
    @Test func queriesWaitingForTheOnlyConnectionArePoolWaitAndThePoolIsDiagnosed() async throws {
        let cluster = try await PostgresCluster.start()
        defer { cluster.stop() }
        var config = AgentConfiguration(name: "pg-test")
        config.control = nil
        let agent = try await LoopScopeAgent.start(config, watching: MultiThreadedEventLoopGroup.singleton)
        let logger = Logger(label: "pg-test")
        let pg = PostgresConnection.Configuration(unixSocketPath: cluster.socketPath, username: cluster.user, password: nil, database: cluster.database)
        let pool = ConnectionPool(name: "postgres", size: 1, timeout: .seconds(10),
                                  open: { try await PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.next(), configuration: pg, id: 1, logger: logger) },
                                  close: { try? await $0.close() },
                                  isReusable: { !$0.isClosed })
        try agent.register(pool)
        let route = agent.route(method: "GET", template: "/orders/{id}")
        // Six requests 3 ms apart, each holding the connection for a 20 ms query. (Apart: an
        // async route's split is measured on one request per millisecond.)
        let totals = try await withThrowingTaskGroup(of: Int.self) { group in
            for id in 1...6 {
                try await Task.sleep(for: .milliseconds(3))
                group.addTask {
                    try await agent.measureRequest(route, status: { (_: Int) in 200 }, errorStatus: { _ in 500 }) {
                        try await pool.withConnection { c in
                            let rows = try await c.query("SELECT total_cents FROM orders, pg_sleep(0.02) WHERE id = \(id)", logger: logger)
                            var total = 0
                            for try await t in rows.decode(Int.self) { total = t }
                            return total
                        }
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(totals.count == 6)
        // Figures close at the once-a-second rollover.
        #expect(await until { agent.snapshot().diagnoses.contains { $0.id == "queueing:postgres" } })
        let s = agent.snapshot()
        let orders = try #require(s.routes.first { $0.path == "/orders/{id}" })
        // They queued behind one connection: 0, 17, 34, 51, 68, 85 ms.
        #expect(orders.split.poolWaitMicros >= 25_000, "\(orders.split)")
        #expect(orders.split.poolWaitMicros > orders.split.ioMicros)
        let p = try #require(s.pool("postgres"))
        #expect(p.kind == .connections && p.completed == 6 && p.routes == ["/orders/{id}"])
        #expect(p.runTime.last10s.mean >= 20_000, "a connection is held for the query: \(p.runTime.last10s)")
        let d = try #require(s.diagnoses.first { $0.id == "queueing:postgres" }, "\(s.diagnoses.map(\.id))")
        if case .resize(pool: "postgres", let size)? = d.action { #expect(size >= 2) } else { Issue.record("\(String(describing: d.action))") }
        await agent.stop()
        pool.shutdown(timeoutNanos: 1_000_000_000)
    }

    func until(_ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }
}
