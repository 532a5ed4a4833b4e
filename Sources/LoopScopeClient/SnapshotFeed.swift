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
    private let intervalMs: NIOLockedValueBox<Int>
    private let frameTimeout: Duration?
    private let backoff: Backoff
    private let current = NIOLockedValueBox<ControlClient?>(nil)
    private let task = NIOLockedValueBox<Task<Void, Never>?>(nil)

    /// - Parameters:
    ///   - target: finds the socket path each time a connection is attempted.
    ///   - frameTimeout: a connection that brings no frame for this long is closed and tried
    ///     again (a server that stopped answering without closing its socket); nil waits.
    ///   - backoff: the delays between attempts.
    public init(intervalMs: Int, frameTimeout: Duration? = nil, backoff: Backoff = Backoff(), target: @escaping @Sendable () throws -> String) {
        self.intervalMs = NIOLockedValueBox(intervalMs)
        self.frameTimeout = frameTimeout
        self.backoff = backoff
        self.target = target
    }

    /// Starts connecting; events arrive on the returned stream until `stop()`.
    public func start() -> AsyncStream<Event> {
        let (stream, continuation) = AsyncStream<Event>.makeStream(bufferingPolicy: .bufferingNewest(8))
        let t = Task { [self] in
            var backoff = self.backoff
            while !Task.isCancelled {
                do {
                    let client = try await ControlClient.connect(path: try target(), timeout: frameTimeout ?? ControlClient.defaultTimeout)
                    current.withLockedValue { $0 = client }
                    backoff.reset()
                    continuation.yield(.connected(client.greeting))
                    let lastFrame = NIOLockedValueBox(ContinuousClock.now)
                    let silent = NIOLockedValueBox(false)
                    let watchdog = frameTimeout.map { limit in
                        Task {
                            while !Task.isCancelled {
                                try? await Task.sleep(for: limit / 4)
                                if ContinuousClock.now - lastFrame.withLockedValue({ $0 }) > limit {
                                    silent.withLockedValue { $0 = true }
                                    await client.close()
                                    return
                                }
                            }
                        }
                    }
                    for await frame in try await client.subscribe(intervalMs: intervalMs.withLockedValue { $0 }) {
                        lastFrame.withLockedValue { $0 = .now }
                        continuation.yield(.frame(frame))
                    }
                    watchdog?.cancel()
                    current.withLockedValue { $0 = nil }
                    let delay = backoff.next()
                    let reason = silent.withLockedValue { $0 } ? "no snapshot for \(frameTimeout!)" : client.closedReason ?? "connection closed"
                    continuation.yield(.disconnected(reason: reason, retryInMillis: delay))
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

    /// Sends a command on the current connection, waiting at most `timeout` for the reply (the
    /// client's by default).
    public func send(_ command: Command, timeout: Duration? = nil) async throws -> ReplyResult {
        guard let client = current.withLockedValue({ $0 }) else { throw ClientError.disconnected("not connected to a server") }
        return try await client.send(command, timeout: timeout)
    }

    /// Streams every `ms` milliseconds from now on (on the current connection at once, if any).
    public func setInterval(_ ms: Int) async {
        guard intervalMs.withLockedValue({ old in defer { old = ms }; return old != ms }) else { return }
        // Subscribing again changes the interval of the same subscription.
        _ = try? await current.withLockedValue({ $0 })?.send(.subscribe(intervalMs: ms, skipUnchanged: true))
    }

    public func stop() {
        task.withLockedValue { $0?.cancel() }
        if let c = current.withLockedValue({ $0 }) { Task { await c.close() } }
    }
}
