import LoopScopeWire
import LoopScopeAgent

/// A route with its live state: the current execution model and its windowed statistics. Thread-safe.
final class RouteRuntime: Sendable {
    let index: Int
    let route: Route
    let stats: RouteStats
    private let placement: ModelSwitch

    init(index: Int, route: Route) {
        self.index = index
        self.route = route
        self.stats = RouteStats(route: index)
        self.placement = ModelSwitch(route.model)
    }

    /// The model new requests start with.
    var model: ExecutionModel { placement.model }

    /// Sets the model; returns the previous one. Requests in flight keep theirs.
    func setModel(_ model: ExecutionModel) -> ExecutionModel { placement.set(model) }

    var name: String { route.template.description }
}
