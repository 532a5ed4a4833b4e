#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Real CPU work of a requested duration: rounds of a 64-bit mixing hash over a buffer,
/// with the number of rounds per millisecond calibrated once per process, so `/hash` costs
/// about 5 ms in debug and release builds alike.
public enum CPUWork {
    /// Rounds per millisecond on this machine, measured on first use.
    public static let roundsPerMillisecond: Int = {
        var best = Int.max
        for _ in 0..<3 {
            let t0 = monotonicNanos()
            _ = mix(rounds: 20_000, seed: 1)
            best = min(best, Int(monotonicNanos() - t0))
        }
        return max(1, Int(20_000.0 / (Double(best) / 1e6)))
    }()

    /// Burns about `milliseconds` of CPU and returns a digest of the work.
    public static func hash(milliseconds: Double, seed: UInt64) -> UInt64 {
        mix(rounds: Int(Double(roundsPerMillisecond) * milliseconds), seed: seed)
    }

    @inline(never)
    static func mix(rounds: Int, seed: UInt64) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ seed
        for i in 0..<rounds {
            for j in 0..<16 {
                h ^= UInt64(truncatingIfNeeded: i &* 31 &+ j)
                h = h &* 0x100_0000_01b3
                h ^= h >> 29
                h = h &* 0xbf58_476d_1ce4_e5b9
            }
        }
        return h
    }

    static func monotonicNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
