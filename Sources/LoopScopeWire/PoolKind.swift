/// What a pool's workers are.
///
/// The raw values are the names used on the wire (`PoolFigures.kind`). LoopScope's client
/// decodes them as a closed set, like `ExecutionModel`, so a new kind comes with a new snapshot
/// `schema`.
public enum PoolKind: String, Codable, Sendable, CaseIterable, Hashable {
    /// OS threads of a `ThreadPool`.
    case threads
    /// Worker processes of a `ProcessPool`, each listed in `PoolFigures.workers`.
    case processes
    /// Resources checked out of a `ResourcePool`, e.g. database connections.
    case connections

    /// Whether `PoolFigures.workers` lists the pool's workers one by one (worker processes).
    public var listsWorkers: Bool {
        switch self {
        case .processes: return true
        case .threads, .connections: return false
        }
    }
}
