#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOConcurrencyHelpers
import Synchronization
import LoopScopeWire

/// A thread of its own that notices an executor stalled right now: a probe overdue by more
/// than the threshold. It records the stall (route and time held so far) for snapshots and
/// logs one event per stall. Thread-safe.
final class Watchdog: Sendable {
    /// What the watchdog watches: an executor's probe and how to find its running stage.
    struct Watched: Sendable {
        var name: String
        var probeDeadline: @Sendable () -> UInt64
        var runningStage: @Sendable () -> (route: Int, start: UInt64)?
    }

    private let watched: [Watched]
    private let thresholdNanos: UInt64
    private let routeName: @Sendable (Int) -> String
    private let events: EventLog
    private let current: NIOLockedValueBox<[StallInProgress?]>
    private let running = Atomic<Bool>(true)

    init(watched: [Watched], thresholdNanos: UInt64, routeName: @escaping @Sendable (Int) -> String, events: EventLog) {
        self.watched = watched
        self.thresholdNanos = thresholdNanos
        self.routeName = routeName
        self.events = events
        self.current = NIOLockedValueBox(Array(repeating: nil, count: watched.count))
    }

    /// The stall in progress on executor `index`, if any.
    func stall(_ index: Int) -> StallInProgress? {
        current.withLockedValue { $0[index] }
    }

    func start() {
        WorkerThread.spawn(name: "ls-watchdog") { [self] in
            while running.load(ordering: .relaxed) {
                check(now: NIODeadline.now().uptimeNanoseconds)
                usleep(10_000)
            }
        }
    }

    func stop() {
        running.store(false, ordering: .relaxed)
    }

    /// One pass over the executors.
    func check(now: UInt64) {
        for (i, w) in watched.enumerated() {
            let deadline = w.probeDeadline()
            var stall: StallInProgress? = nil
            if deadline > 0, now > deadline, now - deadline > thresholdNanos {
                let stage = w.runningStage()
                let since = stage.map { min($0.start, deadline) } ?? deadline
                stall = StallInProgress(route: stage.map { routeName($0.route) }, heldMicros: (now - since) / 1000)
            }
            let began = current.withLockedValue { c -> Bool in
                let wasNil = c[i] == nil
                c[i] = stall
                return wasNil && stall != nil
            }
            if began, let stall {
                events.append(.stall, subject: w.name, old: "ok", new: "stalled \(stall.heldMicros / 1000) ms so far by \(stall.route ?? "unknown code")", actor: "watchdog")
            }
        }
    }
}
