import Synchronization
import LoopScopeWire

/// A route with its live state: the current execution model and its statistics. Thread-safe.
final class RouteRuntime: Sendable {
    let index: Int
    let route: Route
    let stats: RouteStats
    private let modelRaw: Atomic<UInt8>
    private let stages = Atomic<UInt64>(0)
    /// Thread CPU time is read for one compute stage in this many (and always for slow stages' pools).
    static let cpuSampleEvery: UInt64 = 8

    init(index: Int, route: Route, heldThresholdNanos: UInt64) {
        self.index = index
        self.route = route
        self.stats = RouteStats(heldThresholdNanos: heldThresholdNanos)
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

    /// Whether this compute stage should read thread CPU time (1 in `cpuSampleEvery`).
    @inline(__always)
    func sampleCPU() -> Bool {
        stages.add(1, ordering: .relaxed).newValue % Self.cpuSampleEvery == 1
    }

    private static let models = ExecutionModel.allCases
    private static func code(_ m: ExecutionModel) -> UInt8 { UInt8(models.firstIndex(of: m)!) }
}
