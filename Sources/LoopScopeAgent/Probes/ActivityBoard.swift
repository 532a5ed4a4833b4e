import NIOConcurrencyHelpers
import CLoopScopeSys
import Synchronization
import LoopScopeWire

/// Which route's compute stage is running on which executor, right now, for the watchdog.
///
/// Event loops run one stage at a time: one lock-free slot each. The cooperative pool runs
/// several: a small locked table. Thread-safe.
package final class ActivityBoard: Sendable {
    package final class LoopSlot: Sendable {
        /// Route index, or -1 when no compute stage runs.
        let route = Atomic<Int>(-1)
        /// Monotonic nanoseconds when the stage started.
        let startNanos = Atomic<UInt64>(0)
    }

    package let loops: [LoopSlot]
    private let tasks = NIOLockedValueBox<(next: Int, running: [Int: (route: Int, start: UInt64, thread: Int32)])>((0, [:]))

    package init(loopCount: Int) {
        loops = (0..<loopCount).map { _ in LoopSlot() }
    }

    @inline(__always)
    package func enterLoop(_ loop: Int, route: Int, now: UInt64) {
        loops[loop].startNanos.store(now, ordering: .relaxed)
        loops[loop].route.store(route, ordering: .releasing)
    }

    @inline(__always)
    package func exitLoop(_ loop: Int) {
        loops[loop].route.store(-1, ordering: .releasing)
    }

    /// Registers a compute stage on the cooperative pool; returns a token for `exitTask`.
    package func enterTask(route: Int, now: UInt64) -> Int {
        tasks.withLockedValue { t in
            t.next &+= 1
            t.running[t.next] = (route, now, loopscope_gettid())
            return t.next
        }
    }

    package func exitTask(_ token: Int) {
        _ = tasks.withLockedValue { $0.running.removeValue(forKey: token) }
    }

    /// The stage running on a loop: (route, started), if any.
    package func onLoop(_ loop: Int) -> (route: Int, start: UInt64)? {
        let route = loops[loop].route.load(ordering: .acquiring)
        guard route >= 0 else { return nil }
        return (route, loops[loop].startNanos.load(ordering: .relaxed))
    }

    /// The longest-running stage on the cooperative pool, if any.
    package func longestTask() -> (route: Int, start: UInt64)? {
        tasks.withLockedValue { t in t.running.values.min { $0.start < $1.start }.map { ($0.route, $0.start) } }
    }

    /// The route of the stage most recently entered on thread `tid` and still registered. A
    /// stage that awaited may have moved on to another thread since: the thread a stalled
    /// thread's sample was taken on is the better witness than the oldest stage.
    package func task(onThread tid: Int32) -> Int? {
        tasks.withLockedValue { t in t.running.filter { $0.value.thread == tid }.max { $0.key < $1.key }?.value.route }
    }
}
