#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Calls `tick` once a second on a thread of its own, so statistics roll over even while every
/// event loop and the cooperative pool are blocked. Thread-safe.
package final class Ticker: Sendable {
    private let running = Atomic<Bool>(true)

    package init(tick: @escaping @Sendable () -> Void) {
        WorkerThread.spawn(name: "ls-ticker") { [self] in
            var next = Clocks.monotonicNanos() + 1_000_000_000
            while running.load(ordering: .relaxed) {
                let now = Clocks.monotonicNanos()
                if now >= next {
                    tick()
                    next += 1_000_000_000
                    if next < now { next = now + 1_000_000_000 }
                } else {
                    usleep(useconds_t(min((next - now) / 1000, 50_000)))
                }
            }
        }
    }

    package func stop() { running.store(false, ordering: .relaxed) }
}
