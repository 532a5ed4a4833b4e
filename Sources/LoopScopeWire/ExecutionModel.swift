/// Where a route's compute stage runs.
///
/// The raw values are the names used on the wire, on the command line and in scenarios.
public enum ExecutionModel: String, Codable, Sendable, CaseIterable, Hashable {
    /// Inline on the NIO event loop that owns the connection.
    case loop
    /// A Swift concurrency task on the cooperative pool.
    case task
    /// The runtime's resizable thread pool.
    case threads
    /// The runtime's resizable pool of worker processes.
    case processes

    /// The kind of pool that runs this model's compute stages; nil for `loop` and `task`.
    /// The one link between models and pools (`Snapshot.pool(for:)` reads it).
    public var pool: PoolKind? {
        switch self {
        case .threads: return .threads
        case .processes: return .processes
        case .loop, .task: return nil
        }
    }
}
