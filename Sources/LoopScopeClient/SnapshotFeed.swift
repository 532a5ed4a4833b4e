import NIOConcurrencyHelpers
import LoopScopeWire

/// A live feed of snapshots that survives the server going away: it reconnects with backoff
/// to the same socket path (or name) and reports its state as events. Thread-safe.
public final class SnapshotFeed: Sendable {
    /// What the feed reports.
    public enum Event: Sendable {
        case connected(Greeting)
        case frame(Frame)
        /// The connection is gone; the next attempt is in `retryInMillis`.
        case disconnected(reason: String, retryInMillis: Int)
    }

    private let target: @Sendable () throws -> String
    private let intervalMs: Int
    private let current = NIOLockedValueBox<ControlClient?>(nil)
    private let task = NIOLockedValueBox<Task<Void, Never>?>(nil)

    /// - Parameter target: finds the socket path each time a connection is attempted.
    public init(intervalMs: Int, target: @escaping @Sendable () throws -> String) {
        self.intervalMs = intervalMs
        self.target = target
    }

    /// Starts connecting; events arrive on the returned stream until `stop()`.
    public func start() -> AsyncStream<Event> {
        let (stream, continuation) = AsyncStream<Event>.makeStream(bufferingPolicy: .bufferingNewest(8))
        let t = Task { [self] in
            var backoff = Backoff()
            while !Task.isCancelled {
                do {
                    let client = try await ControlClient.connect(path: try target())
                    current.withLockedValue { $0 = client }
                    backoff.reset()
                    continuation.yield(.connected(client.greeting))
                    for await frame in try await client.subscribe(intervalMs: intervalMs) {
                        continuation.yield(.frame(frame))
                    }
                    current.withLockedValue { $0 = nil }
                    let delay = backoff.next()
                    continuation.yield(.disconnected(reason: client.closedReason ?? "connection closed", retryInMillis: delay))
                    try? await Task.sleep(nanoseconds: UInt64(delay) * 1_000_000)
                } catch {
                    current.withLockedValue { $0 = nil }
                    let delay = backoff.next()
                    continuation.yield(.disconnected(reason: "\(error)", retryInMillis: delay))
                    try? await Task.sleep(nanoseconds: UInt64(delay) * 1_000_000)
                }
            }
            continuation.finish()
        }
        task.withLockedValue { $0 = t }
        return stream
    }

    /// Sends a command on the current connection.
    public func send(_ command: Command) async throws -> ReplyResult {
        guard let client = current.withLockedValue({ $0 }) else { throw ClientError.disconnected("not connected to a server") }
        return try await client.send(command)
    }

    public func stop() {
        task.withLockedValue { $0?.cancel() }
        if let c = current.withLockedValue({ $0 }) { Task { await c.close() } }
    }
}
