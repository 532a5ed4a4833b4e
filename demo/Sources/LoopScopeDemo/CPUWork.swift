#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LoopScopeAgent

/// Real CPU work of a requested duration: rounds of a 64-bit mixing hash over a buffer,
/// with the number of rounds per millisecond calibrated once per process, so `/hash` costs
/// about 5 ms in debug and release builds alike.
public enum CPUWork {
    /// Rounds per millisecond on this machine, measured on first use.
    public static let roundsPerMillisecond: Int = {
        // The seed comes from the clock and the digest is used, so the optimiser can neither
        // fold nor drop the calibration run; rounds double until a run lasts at least 5 ms.
        var rounds = 1_000
        var sink: UInt64 = 0
        while true {
            var best = UInt64.max
            for _ in 0..<3 {
                let t0 = Clocks.monotonicNanos()
                sink &+= mix(rounds: rounds, seed: t0)
                best = min(best, Clocks.monotonicNanos() - t0)
            }
            if best >= 5_000_000 || rounds > 1 << 30 {
                if sink == 42 { print("") } // keeps `sink` alive
                return min(10_000_000, max(10, Int(Double(rounds) / (Double(max(best, 1)) / 1e6))))
            }
            rounds *= 2
        }
    }()

    /// Burns about `milliseconds` of CPU and returns a digest of the work. The calibrated
    /// number of rounds is the plan; a wall-clock guard (3× the request) bounds it whatever happens.
    public static func hash(milliseconds: Double, seed: UInt64) -> UInt64 {
        let total = Int(Double(roundsPerMillisecond) * milliseconds)
        let deadline = Clocks.monotonicNanos() + UInt64(max(milliseconds, 0) * 3_000_000) + 1_000_000
        var h = seed
        var done = 0
        while done < total {
            let chunk = min(256, total - done)
            h = mix(rounds: chunk, seed: h &+ UInt64(done))
            done += chunk
            if Clocks.monotonicNanos() > deadline { break }
        }
        return h
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
}
