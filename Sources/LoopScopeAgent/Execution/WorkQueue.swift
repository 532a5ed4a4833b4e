import NIOCore
import Synchronization

/// A bounded FIFO of jobs shared by a resizable set of worker threads.
///
/// Workers call `take` in a loop. When the pool shrinks, a worker that asks for work while the
/// pool has more live workers than its size retires instead; idle workers are woken so they
/// retire first, and a busy worker is never interrupted. Queued jobs are never lost by resizing.
///
/// A worker that runs out of work may poll the queue without sleeping for `spinNanos` before it
/// waits on the condition, so that a job coming within that time starts without a sleep and a
/// wake-up (several microseconds on bare metal, tens on a virtual machine). It polls only while
/// polling pays: while the last job to reach an idle worker came within that window. Jobs that
/// come sparsely (milliseconds apart) never cost a poll, so the CPU stays free for event loops.
///
/// `@unchecked Sendable`: all mutable state is read and written only with `condition` locked,
/// except `pending`, an atomic copy of the queue's length for polling.
package final class WorkQueue<Item: Sendable>: @unchecked Sendable {
    package struct Entry {
        var item: Item
        var enqueuedNanos: UInt64
    }

    /// What `take` hands a worker.
    package enum Take {
        case job(Entry)
        /// The pool has shrunk: this worker should exit.
        case retire
        /// Nothing arrived within the timeout.
        case idle
    }

    /// Instant gauges.
    package struct Gauges: Sendable {
        var size: Int
        var live: Int
        var busy: Int
        var queued: Int
        var limit: Int
    }

    private let condition = Condition()
    private var items = CircularBuffer<Entry>(initialCapacity: 64)
    private var limit: Int
    private var size: Int
    private var live = 0
    private var busy = 0
    private let pending = Atomic<Int>(0)
    /// Whether the last job that reached an idle worker came within `spinNanos` of it going idle.
    private var spinPays = true
    /// How long an idle worker polls before sleeping (0: never).
    package let spinNanos: UInt64

    package init(size: Int, limit: Int, spinNanos: UInt64) {
        self.size = size
        self.limit = limit
        self.spinNanos = spinNanos
    }

    /// Enqueues a job; false when the queue is at its limit.
    package func submit(_ item: Item) -> Bool {
        let now = Clocks.monotonicNanos()
        condition.lock()
        // Refused when full, and when sized to zero (shut down): nothing would ever run it.
        guard items.count < limit, size > 0 else {
            condition.unlock()
            return false
        }
        items.append(Entry(item: item, enqueuedNanos: now))
        pending.add(1, ordering: .relaxed)
        condition.unlock()
        condition.signal()
        return true
    }

    /// Blocks until a job, a retirement or the timeout. A returned job counts as busy until `finished()`.
    package func take(timeoutNanos: UInt64) -> Take {
        condition.lock()
        defer { condition.unlock() }
        var waited = false
        var spun = false
        var idleSince: UInt64 = 0
        while true {
            if live > size {
                live -= 1
                condition.broadcast()
                return .retire
            }
            if let entry = items.popFirst() {
                pending.subtract(1, ordering: .relaxed)
                busy += 1
                if idleSince != 0 { spinPays = entry.enqueuedNanos <= idleSince &+ spinNanos }
                return .job(entry)
            }
            if waited { return .idle }
            if idleSince == 0 { idleSince = Clocks.monotonicNanos() }
            if !spun && spinPays && spinNanos > 0 {
                spun = true
                condition.unlock()
                PoolPolling.spin(for: spinNanos) { pending.load(ordering: .relaxed) != 0 }
                condition.lock()
                continue
            }
            waited = !condition.wait(timeoutNanos: timeoutNanos)
        }
    }

    /// Marks the end of a job handed out by `take`.
    package func finished() {
        condition.lock()
        busy -= 1
        condition.unlock()
    }

    /// Writes off a worker holding a job that will not end in time: it counts neither as busy
    /// nor as live from now on (it exits when its job returns, without `finished()`). Returns
    /// whether a replacement should start (the pool is below its size without it).
    package func writeOff() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        busy -= 1
        live -= 1
        return live < size
    }

    /// Registers a worker that is about to start calling `take`.
    package func workerStarted() {
        condition.lock()
        live += 1
        condition.unlock()
    }

    /// Sets the pool's size and calls `startWorker` for each worker it lacks (a smaller size
    /// retires idle workers as they next look for work).
    package func resize(to newSize: Int, startWorker: () -> Void = {}) {
        condition.lock()
        size = newSize
        let start = max(0, newSize - live)
        condition.unlock()
        condition.broadcast()
        for _ in 0..<start { startWorker() }
    }

    /// Sets the queue limit; returns the previous one. Jobs already queued stay queued.
    package func setLimit(_ newLimit: Int) -> Int {
        condition.lock()
        defer { condition.unlock() }
        let old = limit
        limit = newLimit
        return old
    }

    package var gauges: Gauges {
        condition.lock()
        defer { condition.unlock() }
        return Gauges(size: size, live: live, busy: busy, queued: items.count, limit: limit)
    }

    /// Waits until the queue is empty and no job is running, or the timeout passes. Returns whether idle.
    package func waitUntilIdle(timeoutNanos: UInt64) -> Bool {
        let deadline = Clocks.monotonicNanos() + timeoutNanos
        condition.lock()
        defer { condition.unlock() }
        while !(items.isEmpty && busy == 0) {
            let now = Clocks.monotonicNanos()
            if now >= deadline { return false }
            condition.wait(timeoutNanos: min(deadline - now, 10_000_000))
        }
        return true
    }
}
