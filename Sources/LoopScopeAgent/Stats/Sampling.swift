/// Picks about one event in 2^k without a shared counter, so event loops need not contend on
/// one: a value that differs from event to event (a timestamp, a duration) is hashed
/// (Fibonacci hashing, which spreads even coarse clock readings) and its top k bits tested.
package enum Sampling {
    @inline(__always)
    package static func oneIn(powerOfTwo k: Int, seed: UInt64) -> Bool {
        (seed &* 0x9E37_79B9_7F4A_7C15) >> UInt64(64 - k) == 0
    }
}
