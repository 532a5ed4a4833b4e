/// Deadlines of jobs running on pool threads. One thread, started with the first deadline,
/// sleeps until the earliest and calls its `expire` (outside the lock) when it passes; a job
/// that ends first takes its deadline back with `unwatch`. Either the job's end or `expire`
/// wins, never both: `unwatch` returns false once `expire` was taken for running. Thread-safe.
///
/// A thread cannot be stopped, so a pool whose job expired answers it (504), writes the
/// thread off and starts another; the written-off thread exits when its job returns.
package final class JobDeadlines: @unchecked Sendable {
    // `entries`, `nextToken` and `started` are read and written only with `condition` locked.
    private struct Entry {
        var deadline: UInt64
        var expire: @Sendable () -> Void
    }

    package static let shared = JobDeadlines()

    private let condition = Condition()
    private var entries: [UInt64: Entry] = [:]
    private var nextToken: UInt64 = 1
    private var started = false

    package init() {}

    /// Calls `expire` once `deadline` (monotonic nanoseconds) passes, unless `unwatch(token)`
    /// comes first.
    package func watch(deadline: UInt64, expire: @escaping @Sendable () -> Void) -> UInt64 {
        condition.lock()
        let token = nextToken
        nextToken += 1
        let earliest = entries.values.map(\.deadline).min() ?? .max
        entries[token] = Entry(deadline: deadline, expire: expire)
        let start = !started
        started = true
        condition.unlock()
        if start {
            WorkerThread.spawn(name: "ls-deadlines") { [self] in run() }
        } else if deadline < earliest {
            condition.signal()
        }
        return token
    }

    /// Takes a deadline back; false when it already expired (its `expire` ran or is running).
    package func unwatch(_ token: UInt64) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        return entries.removeValue(forKey: token) != nil
    }

    /// Deadlines being watched.
    package var count: Int {
        condition.lock()
        defer { condition.unlock() }
        return entries.count
    }

    private func run() {
        condition.lock()
        while true {
            let now = Clocks.monotonicNanos()
            guard let (token, entry) = entries.min(by: { $0.value.deadline < $1.value.deadline }) else {
                _ = condition.wait(timeoutNanos: 60_000_000_000)
                continue
            }
            if entry.deadline <= now {
                entries.removeValue(forKey: token)
                condition.unlock()
                entry.expire()
                condition.lock()
            } else {
                _ = condition.wait(timeoutNanos: entry.deadline - now)
            }
        }
    }
}
