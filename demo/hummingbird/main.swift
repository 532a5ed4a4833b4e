// A Hummingbird 2 service with the demo's kinds of work written the way people write them in
// Hummingbird handlers, and LoopScope embedded in a few lines (marked ★).
//
//   loopscope-hummingbird-demo [--port 8090] [--name hummingbird-demo] [--control-dir DIR] [--upstream-delay-ms 20]
//                              [--offload-threads N] [--postgres] [--db-connections 2] [--exit-on-stdin-eof] [--without-loopscope]
//
// Then `loopscope attach` (or `loopscope list`) in another terminal; `loopscope demo --app
// hummingbird` starts it and plays the story against it.
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import ServiceLifecycle
import Synchronization
import LoopScopeAgent        // ★
import LoopScopeHummingbird  // ★
import LoopScopeDemo

/// Command-line options, `--name value` pairs.
struct Options {
    var port = 8090
    var name = "hummingbird-demo"
    var controlDir: String? = nil
    var upstreamDelayMs = 20
    /// Threads of the pool offload points move to (nil: the agent's default, one per core).
    var offloadThreads: Int? = nil
    /// Shut down gracefully when standard input ends (the process that started us is gone).
    var exitOnStdinEOF = false
    /// The same app without the agent and the middleware (to measure what they cost).
    var withoutLoopScope = false
    /// Start a private PostgreSQL cluster and serve /orders/{id} from it.
    var postgres = false
    /// Connections of the PostgreSQL pool (the operator resizes it live).
    var dbConnections = 2

    init(_ arguments: [String]) throws {
        var i = 0
        func value() throws -> String {
            guard i + 1 < arguments.count else { throw DemoError("\(arguments[i]) needs a value") }
            i += 1
            return arguments[i]
        }
        while i < arguments.count {
            switch arguments[i] {
            case "--port": port = try Self.integer(try value(), "--port", 0...65535)
            case "--name": name = try value()
            case "--control-dir": controlDir = try value()
            case "--upstream-delay-ms": upstreamDelayMs = try Self.integer(try value(), "--upstream-delay-ms", 0...10_000)
            case "--offload-threads": offloadThreads = try Self.integer(try value(), "--offload-threads", 1...256)
            case "--exit-on-stdin-eof": exitOnStdinEOF = true
            case "--postgres": postgres = true
            case "--db-connections": dbConnections = try Self.integer(try value(), "--db-connections", 1...100)
            case "--without-loopscope": withoutLoopScope = true
            case "-h", "--help":
                print("usage: loopscope-hummingbird-demo [--port 8090 (0: a free one)] [--name hummingbird-demo] [--control-dir DIR] [--upstream-delay-ms 20] [--offload-threads N] [--postgres] [--db-connections 2] [--exit-on-stdin-eof] [--without-loopscope]")
                exit(0)
            default: throw DemoError("unknown option \(arguments[i]); see --help")
            }
            i += 1
        }
    }

    static func integer(_ text: String, _ name: String, _ range: ClosedRange<Int>) throws -> Int {
        guard let n = Int(text), range.contains(n) else { throw DemoError("\(name) must be an integer in \(range.lowerBound)...\(range.upperBound), got '\(text)'") }
        return n
    }
}

/// No connection in time: 504 when the wait timed out (the route counts it under the pool's
/// `connection wait`), else 503.
struct PoolUnavailable: HTTPResponseError, TimeoutReporting {                        // ★ optional
    let error: ConnectionPoolError
    var status: HTTPResponse.Status { timeoutReason == nil ? .serviceUnavailable : .gatewayTimeout }
    var timeoutReason: String? { error.timeoutReason }
    func response(from request: Request, context: some RequestContext) throws -> Response {
        try HTTPError(status, message: "\(error)").response(from: request, context: context)
    }
}

/// Connection ids for PostgresNIO's logs.
final class ManagedCounter: Sendable {
    private let value = Atomic<Int>(0)
    func next() -> Int { value.add(1, ordering: .relaxed).newValue }
}

struct DemoError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// The handlers, as a Hummingbird user would write them.
enum Handlers {
    /// Fake async: CPU work inside an async handler that never awaits.
    static func hash(_ request: Request, _ context: some RequestContext) async throws -> String {
        let ms = try Self.milliseconds(request, default: 5)
        let digest = CPUWork.hash(milliseconds: Double(ms), seed: 1)
        return "hash \(String(digest, radix: 16)) after \(ms) ms of CPU\n"
    }

    /// A blocking call inside an async handler: a synchronous client that sleeps, behind an
    /// offload point (inline, i.e. blocking a cooperative-pool thread, until moved to threads).
    static func legacy(_ agent: LoopScopeAgent?) -> @Sendable (Request, BasicRequestContext) async throws -> String {
        { request, _ in
            let ms = try Self.milliseconds(request, default: 10)
            let call: @Sendable () -> Void = { usleep(useconds_t(ms * 1000)) }
            try await agent?.offload("legacy-client", call) ?? call()                     // ★
            return "legacy answer after \(ms) ms (blocking)\n"
        }
    }

    /// Real async I/O: three upstream calls in parallel with `async let`.
    static func fanout(_ upstream: UpstreamClient) -> @Sendable (Request, BasicRequestContext) async throws -> String {
        { _, _ in
            async let a = upstream.get("/a")
            async let b = upstream.get("/b")
            async let c = upstream.get("/c")
            let bytes = try await a + b + c
            return "merged 3 upstream answers, \(bytes.count) bytes\n"
        }
    }

    /// The same three calls awaited one after the other: the sum of their times, where
    /// /fanout takes the slowest.
    static func fanoutSerial(_ upstream: UpstreamClient) -> @Sendable (Request, BasicRequestContext) async throws -> String {
        { _, _ in
            let a = try await upstream.get("/a")
            let b = try await upstream.get("/b")
            let c = try await upstream.get("/c")
            return "merged 3 upstream answers one after the other, \((a + b + c).count) bytes\n"
        }
    }

    /// An order from PostgreSQL through a pool of connections: a query that takes `ms`
    /// (default 8) milliseconds in the database, while the connection is held.
    static func order(_ pool: ConnectionPool<PostgresConnection>, logger: Logger) -> @Sendable (Request, BasicRequestContext) async throws -> String {
        { request, context in
            guard let id = context.parameters.get("id").flatMap(Int.init), (1...PostgresCluster.orders).contains(id) else {
                throw HTTPError(.badRequest, message: "the order id must be an integer in 1...\(PostgresCluster.orders)")
            }
            let seconds = Double(try Self.milliseconds(request, default: 8)) / 1000
            do {
                return try await pool.withConnection { connection in                    // ★ a registered pool
                    let rows = try await connection.query("SELECT o.id, o.customer, o.total_cents FROM orders o, pg_sleep(\(seconds)) WHERE o.id = \(id)", logger: logger)
                    for try await (id, customer, total) in rows.decode((Int, String, Int).self) {
                        return "order \(id) for \(customer): \(total / 100).\(String(format: "%02d", total % 100))\n"
                    }
                    throw HTTPError(.notFound, message: "no order \(id)")
                }
            } catch let e as ConnectionPoolError {
                throw PoolUnavailable(error: e)
            }
        }
    }

    /// A compute phase after an await: fetch, then digest on the same task.
    static func report(_ upstream: UpstreamClient) -> @Sendable (Request, BasicRequestContext) async throws -> String {
        { request, context in
            let id = context.parameters.get("id") ?? "?"
            let body = try await upstream.get("/mixed")
            let ms = try Self.milliseconds(request, default: 5)
            let digest = CPUWork.hash(milliseconds: Double(ms), seed: UInt64(body.count))
            return "report \(id): \(String(digest, radix: 16)) over \(body.count) upstream bytes\n"
        }
    }

    /// CPU work behind an offload point: inline until the operator moves it to threads or,
    /// since it is an `OffloadJob` (Codable in and out), to a worker process.
    static func invoice(_ agent: LoopScopeAgent?) -> @Sendable (Request, BasicRequestContext) async throws -> String {
        { request, context in
            let order = InvoiceOrder(id: context.parameters.get("id") ?? "?", milliseconds: try Self.milliseconds(request, default: 8))
            let invoice = try await agent?.offload(DemoJobs.renderInvoice, order) ?? DemoJobs.renderInvoice.body(order)   // ★
            return "invoice \(invoice.id): \(invoice.digest), \(order.milliseconds) ms of CPU in pid \(invoice.renderedBy)\n"
        }
    }

    static func milliseconds(_ request: Request, default value: Int) throws -> Int {
        guard let raw = request.uri.queryParameters.get("ms") else { return value }
        guard let n = Int(raw), (0...10_000).contains(n) else { throw HTTPError(.badRequest, message: "ms must be an integer in 0...10000, got '\(raw)'") }
        return n
    }
}

@main
enum HummingbirdDemo {
    static func main() async {
        // ★ A worker process of the agent's process pool serves its jobs here and never returns.
        ProcessWorker.runIfRequested(offloading: [DemoJobs.renderInvoice])
        do {
            try await run(Options(Array(CommandLine.arguments.dropFirst())))
        } catch {
            FileHandle.standardError.write(Data("loopscope-hummingbird-demo: \(error)\n".utf8))
            exit(1)
        }
    }

    static func run(_ options: Options) async throws {
        let logger = Logger(label: options.name)
        let group = MultiThreadedEventLoopGroup.singleton
        let upstreamServer = try await UpstreamServer.start(port: 0, delayMs: options.upstreamDelayMs, group: group)
        let upstream = UpstreamClient(port: upstreamServer.port, group: group)
        let database = options.postgres ? try await PostgresCluster.start() : nil
        defer { database?.stop() }
        let orders: ConnectionPool<PostgresConnection>? = database.map { db in
            let ids = ManagedCounter()
            let configuration = PostgresConnection.Configuration(unixSocketPath: db.socketPath, username: db.user, password: nil, database: db.database)
            return ConnectionPool(name: "postgres", size: options.dbConnections, timeout: .seconds(2),
                                  open: { try await PostgresConnection.connect(on: group.next(), configuration: configuration, id: ids.next(), logger: logger) },
                                  close: { try? await $0.close() },
                                  isReusable: { !$0.isClosed })
        }

        var config = AgentConfiguration(name: options.name)                          // ★
        config.control = ControlConfiguration(directory: options.controlDir)          // ★
        if let n = options.offloadThreads { config.offloadThreads = n }
        config.offloadProcesses = 2                                                   // ★ for OffloadJobs
        let agent = options.withoutLoopScope ? nil : try await LoopScopeAgent.start(config, watching: group, logger: logger)  // ★
        try agent?.register(upstream.pool)                                            // ★ pools you want to see
        if let orders { try agent?.register(orders) }

        let router = Router()
        if let agent { router.add(middleware: LoopScopeMiddleware(agent: agent)) }   // ★
        router.get("hello") { _, _ in "hello\n" }
        router.get("hash", use: Handlers.hash)
        router.get("legacy", use: Handlers.legacy(agent))
        router.get("fanout", use: Handlers.fanout(upstream))
        router.get("fanout-serial", use: Handlers.fanoutSerial(upstream))
        if let orders { router.get("orders/{id}", use: Handlers.order(orders, logger: logger)) }
        router.get("reports/{id}", use: Handlers.report(upstream))
        router.get("invoices/{id}", use: Handlers.invoice(agent))
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: options.port)),
                              onServerRunning: { channel in
                                  let port = channel.localAddress?.port ?? options.port
                                  agent?.setAddress("127.0.0.1:\(port)")                  // ★ (optional)
                                  print("serving \(options.name) on http://127.0.0.1:\(port)  control: \(agent?.controlSocketPath ?? "off")")
                                  fflush(nil)
                              },
                              logger: logger)
        if options.exitOnStdinEOF { Self.terminateAtEndOfInput() }

        let services = ServiceGroup(configuration: .init(services: (agent.map { [$0] } ?? []) + [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))  // ★ agent
        try await services.run()
        await upstreamServer.stop()
    }

    /// Raises SIGTERM (a graceful shutdown through the service group) once standard input
    /// ends: the parent that holds its other end exited or closed it.
    static func terminateAtEndOfInput() {
        let thread = Thread {
            var byte: UInt8 = 0
            while true {
                let n = read(0, &byte, 1)
                if n == 0 || (n < 0 && errno != EINTR) { break }
            }
            kill(getpid(), SIGTERM)
        }
        thread.name = "stdin-eof"
        thread.start()
    }
}
