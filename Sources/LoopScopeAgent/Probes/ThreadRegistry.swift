import NIOConcurrencyHelpers
import Synchronization
import CLoopScopeSys

/// The kernel thread ids of each watched executor, so the watchdog can look at a stalled
/// one: an event loop's thread registers when the server starts; cooperative-pool threads
/// register the first time one of the runtime's tasks runs on them (a thread-local flag makes
/// every later call a load). Thread-safe.
package final class ThreadRegistry: Sendable {
    private let threads: NIOLockedValueBox<[[Int32]]>
    /// The executor index of the cooperative pool.
    package let tasksIndex: Int
    /// This registry's mark in each thread's visited slot.
    private let id: Int64
    private static let ids = Atomic<Int64>(0)

    package init(executors: Int, tasksIndex: Int) {
        threads = NIOLockedValueBox(Array(repeating: [], count: executors))
        self.tasksIndex = tasksIndex
        id = Self.ids.add(1, ordering: .relaxed).newValue
    }

    /// Registers the calling thread as one of `executor`'s.
    package func register(executor: Int) {
        let tid = loopscope_gettid()
        threads.withLockedValue { t in
            if !t[executor].contains(tid) { t[executor].append(tid) }
        }
    }

    /// Registers the calling thread as a cooperative-pool thread, once per thread.
    @inline(__always)
    package func noteCooperativeThread() {
        if loopscope_thread_first_visit(id) != 0 { register(executor: tasksIndex) }
    }

    package func threads(of executor: Int) -> [Int32] { threads.withLockedValue { $0[executor] } }

    /// Forgets a thread that has exited.
    package func forget(_ tid: Int32, executor: Int) {
        threads.withLockedValue { $0[executor].removeAll { $0 == tid } }
    }
}
