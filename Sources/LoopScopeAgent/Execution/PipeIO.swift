#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Blocking, length-prefixed frames over pipe file descriptors: a 4-byte big-endian length,
/// then the payload, written with one `write` where possible.
package enum PipeIO {
    /// Frames larger than this are refused (64 MiB).
    package static let maxFrameBytes = 64 << 20

    /// Writes one frame. False when the pipe is closed.
    package static func writeFrame(_ fd: Int32, _ payload: [UInt8]) -> Bool {
        var frame: [UInt8] = []
        frame.reserveCapacity(payload.count + 4)
        BinaryFrames.appendU32(&frame, UInt32(payload.count))
        frame.append(contentsOf: payload)
        return writeAll(fd, frame)
    }

    /// Reads one frame. Nil on end of file, error or an oversized frame. When `spinNanos` > 0,
    /// first polls the pipe without sleeping for up to that long: a reply or request that comes
    /// within it is read without the thread being put to sleep and woken again (tens of
    /// microseconds on a virtual machine).
    package static func readFrame(_ fd: Int32, spinNanos: UInt64 = 0) -> [UInt8]? {
        if spinNanos > 0 { spinUntilReadable(fd, nanos: spinNanos) }
        var header = [UInt8](repeating: 0, count: 4)
        guard readExactly(fd, &header, 4) else { return nil }
        let n = Int(UInt32(header[0]) << 24 | UInt32(header[1]) << 16 | UInt32(header[2]) << 8 | UInt32(header[3]))
        guard n <= maxFrameBytes else { return nil }
        var payload = [UInt8](repeating: 0, count: n)
        guard readExactly(fd, &payload, n) else { return nil }
        return payload
    }

    /// Returns when `fd` is readable or `nanos` have passed, without sleeping.
    package static func spinUntilReadable(_ fd: Int32, nanos: UInt64) {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        PoolPolling.spin(for: nanos) { poll(&p, 1, 0) != 0 }
    }

    /// Sleeps until `fd` is readable (or at end of file, or failed) or the monotonic clock
    /// reaches `deadline`; false when the deadline came first.
    package static func waitReadable(_ fd: Int32, until deadline: UInt64) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while true {
            let now = Clocks.monotonicNanos()
            if now >= deadline { return poll(&p, 1, 0) != 0 }
            let millis = Int32(min((deadline - now + 999_999) / 1_000_000, 60_000))
            let r = poll(&p, 1, millis)
            if r > 0 { return true }
            if r < 0 && errno != EINTR { return true }   // let the read report it
        }
    }

    package static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += n
            }
            return true
        }
    }

    package static func readExactly(_ fd: Int32, _ buffer: inout [UInt8], _ count: Int) -> Bool {
        if count == 0 { return true }
        return buffer.withUnsafeMutableBytes { raw in
            var offset = 0
            while offset < count {
                let n = read(fd, raw.baseAddress! + offset, count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                if n == 0 { return false }
                offset += n
            }
            return true
        }
    }
}
