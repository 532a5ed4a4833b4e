#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOConcurrencyHelpers
import LoopScopeWire

/// Live feeds from every worker of a group (`serve --workers N`): one `SnapshotFeed` per
/// worker index, each finding its worker's socket anew on every attempt, so a worker the
/// supervisor restarted (new pid, new socket, same index) is picked up. A worker that sends
/// no frame for `frameTimeout` is dropped and tried again; none can hold up the others.
/// Thread-safe.
public final class GroupFeed: Sendable {
    /// What the feed reports: one worker's feed event.
    public struct Event: Sendable {
        /// The worker's index in the group.
        public var worker: Int
        /// What its feed reported.
        public var event: SnapshotFeed.Event
        /// On `disconnected`: whether the process last connected in this slot still runs (it
        /// stopped answering) or not (it exited: the supervisor restarts it).
        public var processRuns = false
    }

    /// The group's id, `demo-app/4242`.
    public let group: String
    /// Workers in the group, as its members announce it.
    public let size: Int
    private let feeds: [SnapshotFeed]
    private let pumps = NIOLockedValueBox<[Task<Void, Never>]>([])
    /// How long a command waits for each worker's reply.
    public static let commandTimeout: Duration = .seconds(5)

    /// A worker that sends no frame for this long is dropped and tried again: five of the
    /// slowest worker's frames, 3 s at least.
    public let frameTimeout: Duration

    /// Finds the group's members in `directory` (throws `ClientError.notFound` when none runs).
    /// - Parameter intervalMs: how often each worker streams, by index, given the group's size.
    public init(group: String, directory: String, intervalMs: (Int) -> [Int: Int]) throws(ClientError) {
        let members = try ServerLocator.members(of: group, directory: directory)
        self.group = group
        let size = members.compactMap { $0.member?.size }.max() ?? members.count
        self.size = size
        let intervals = intervalMs(size)
        let frameTimeout = Duration.milliseconds(max(3_000, 5 * (intervals.values.max() ?? 1_000)))
        self.frameTimeout = frameTimeout
        // Reconnect attempts stay under a second apart: a restarted worker announces itself
        // within a few hundred milliseconds.
        feeds = (0..<size).map { index in
            SnapshotFeed(intervalMs: intervals[index] ?? 1000, frameTimeout: frameTimeout, backoff: Backoff(initialMillis: 100, maximumMillis: 1_000)) {
                try ServerLocator.member(index, of: group, directory: directory)
            }
        }
    }

    /// Starts every worker's feed; their events arrive on one stream until `stop()`.
    public func start() -> AsyncStream<Event> {
        let (stream, continuation) = AsyncStream<Event>.makeStream(bufferingPolicy: .bufferingNewest(8 * max(size, 1)))
        let tasks = feeds.enumerated().map { index, feed in
            let events = feed.start()
            return Task {
                var pid: Int32?
                for await e in events {
                    var event = Event(worker: index, event: e)
                    switch e {
                    case .connected(let greeting): pid = greeting.pid
                    case .disconnected: event.processRuns = pid.map { kill($0, 0) == 0 || errno == EPERM } ?? false
                    case .frame: break
                    }
                    continuation.yield(event)
                }
            }
        }
        pumps.withLockedValue { $0 = tasks }
        return stream
    }

    /// Sends `command` to worker `index` on its current connection.
    public func send(_ command: Command, to index: Int) async throws -> ReplyResult {
        guard feeds.indices.contains(index) else { throw ClientError.notFound("\(group) has no worker \(index)") }
        return try await feeds[index].send(command, timeout: Self.commandTimeout)
    }

    /// Sends each worker its command at once; the outcomes in worker order.
    public func send(_ commands: [Int: Command]) async -> [(worker: Int, result: Result<ReplyResult, any Error>)] {
        await FanOut.run(Array(commands.keys)) { index in try await self.send(commands[index]!, to: index) }
    }

    /// Has each worker stream every so many milliseconds (by index).
    public func setIntervals(_ intervals: [Int: Int]) async {
        for (index, ms) in intervals where feeds.indices.contains(index) { await feeds[index].setInterval(ms) }
    }

    /// Stops every worker's feed and closes their connections.
    public func stop() {
        for feed in feeds { feed.stop() }
        for t in pumps.withLockedValue({ $0 }) { t.cancel() }
    }
}
