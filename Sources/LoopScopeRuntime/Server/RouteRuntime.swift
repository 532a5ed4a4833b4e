import Synchronization
import LoopScopeWire

/// A route with its live state: the current execution model and its windowed statistics. Thread-safe.
final class RouteRuntime: Sendable {
    let index: Int
    let route: Route
    let stats: RouteStats
    private let modelRaw: Atomic<UInt8>

    init(index: Int, route: Route) {
        self.index = index
        self.route = route
        self.stats = RouteStats(route: index)
        self.modelRaw = Atomic(Self.code(route.model))
    }

    /// The model new requests start with.
    var model: ExecutionModel {
        Self.models[Int(modelRaw.load(ordering: .relaxed))]
    }

    /// Sets the model; returns the previous one. Requests in flight keep theirs.
    func setModel(_ model: ExecutionModel) -> ExecutionModel {
        Self.models[Int(modelRaw.exchange(Self.code(model), ordering: .relaxed))]
    }

    var name: String { route.template.description }

    private static let models = ExecutionModel.allCases
    private static func code(_ m: ExecutionModel) -> UInt8 { UInt8(models.firstIndex(of: m)!) }
}
