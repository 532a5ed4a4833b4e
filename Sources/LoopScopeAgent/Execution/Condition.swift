#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A pthread mutex with one condition variable, for pools whose threads block waiting for work.
///
/// `@unchecked Sendable`: every access to the protected state happens between `lock()` and
/// `unlock()` of this mutex, which the pools guarantee.
package final class Condition: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    package init() {
        pthread_mutex_init(mutex, nil)
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        #if os(Linux)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        #endif
        pthread_cond_init(cond, &attr)
        pthread_condattr_destroy(&attr)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        cond.deallocate()
        mutex.deallocate()
    }

    package func lock() { pthread_mutex_lock(mutex) }
    package func unlock() { pthread_mutex_unlock(mutex) }
    package func signal() { pthread_cond_signal(cond) }
    package func broadcast() { pthread_cond_broadcast(cond) }

    /// Waits (with the mutex held) until signalled or `timeoutNanos` passes. Returns false on timeout.
    @discardableResult
    package func wait(timeoutNanos: UInt64) -> Bool {
        #if os(Linux)
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        let deadline = UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec) + timeoutNanos
        ts.tv_sec = Int(deadline / 1_000_000_000)
        ts.tv_nsec = Int(deadline % 1_000_000_000)
        return pthread_cond_timedwait(cond, mutex, &ts) == 0
        #else
        var tv = timeval()
        gettimeofday(&tv, nil)
        let deadline = UInt64(tv.tv_sec) * 1_000_000_000 + UInt64(tv.tv_usec) * 1000 + timeoutNanos
        var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        return pthread_cond_timedwait(cond, mutex, &ts) == 0
        #endif
    }
}
