import Synchronization
import LoopScopeWire

/// Where new work of a route or an offload point runs, switchable at runtime: one atomic, read
/// on every request. Work already started keeps the model it began with. Thread-safe.
package final class ModelSwitch: Sendable {
    private let code: Atomic<UInt8>

    package init(_ model: ExecutionModel) {
        code = Atomic(Self.code(model))
    }

    /// The model new work starts with.
    package var model: ExecutionModel { Self.models[Int(code.load(ordering: .relaxed))] }

    /// Sets the model; returns the previous one.
    package func set(_ model: ExecutionModel) -> ExecutionModel {
        Self.models[Int(code.exchange(Self.code(model), ordering: .relaxed))]
    }

    private static let models = ExecutionModel.allCases
    private static func code(_ m: ExecutionModel) -> UInt8 { UInt8(models.firstIndex(of: m)!) }
}
