import NIOConcurrencyHelpers
import Synchronization
import LoopScopeWire

/// Named sections of application code whose placement the operator switches at runtime:
/// `inline` on the caller's executor (model `task`: the cooperative pool, as written), the
/// agent's thread pool (`threads`), or — for an `OffloadJob` when the agent has a process pool
/// — a worker process (`processes`). Each is listed with the routes (method `OFFLOAD`, its name
/// as the path) with its own latency, CPU class, pool wait and diagnoses. Thread-safe.
package final class OffloadPoints: Sendable {
    /// The method offload points are listed under, beside the routes.
    package static let method = "OFFLOAD"
    /// The placements any offload point can take; an `OffloadJob`'s also `processes`.
    package static let placements: [ExecutionModel] = [.task, .threads]

    package final class Point: Sendable {
        let name: String
        let route: Int
        private let placement: ModelSwitch
        /// Offloaded as an `OffloadJob` (Codable): it can run in a worker process.
        private let codable = Atomic<Bool>(false)

        init(name: String, route: Int, model: ExecutionModel) {
            self.name = name
            self.route = route
            placement = ModelSwitch(model)
        }

        var model: ExecutionModel { placement.model }

        func setModel(_ model: ExecutionModel) -> ExecutionModel { placement.set(model) }

        var runsInProcesses: Bool { codable.load(ordering: .relaxed) }
        func allowProcesses() { codable.store(true, ordering: .relaxed) }

        /// Where it may be placed, given whether the agent has a process pool.
        func placements(processPool: Bool) -> [ExecutionModel] {
            OffloadPoints.placements + (runsInProcesses && processPool ? [.processes] : [])
        }
    }

    private let points = NIOLockedValueBox<[String: Point]>([:])

    package init() {}

    /// The point named `name`, registered with the agent's routes the first time.
    package func point(_ name: String, in core: AgentCore) -> Point {
        if let p = points.withLockedValue({ $0[name] }) { return p }
        // Whichever first call registers the route, the model reads the point that won.
        let index = core.route(method: Self.method, path: name, model: { [self] in existing(name)?.model ?? .task })
        return points.withLockedValue { all in
            if let p = all[name] { return p }
            let p = Point(name: name, route: index, model: .task)
            all[name] = p
            return p
        }
    }

    package func existing(_ name: String) -> Point? { points.withLockedValue { $0[name] } }
}

/// Why an offloaded section did not run.
public enum OffloadError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The thread pool's queue is full (the operator may grow it or raise its limit).
    case queueFull(point: String)
    /// The agent has no thread pool to run it on.
    case noThreadPool(point: String)
    /// In a worker process: the job threw, its worker died, or it ran past the job timeout.
    case processFailed(point: String, status: Int, message: String)

    public var description: String {
        switch self {
        case .queueFull(let p): return "offload point \(p): the thread pool's queue is full"
        case .noThreadPool(let p): return "offload point \(p): the agent has no thread pool"
        case .processFailed(let p, _, let m): return "offload point \(p) in a worker process: \(m)"
        }
    }
}
