#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// Blocking, length-prefixed frames over pipe file descriptors: a 4-byte big-endian length,
/// then the payload, written with one `write` where possible.
///
/// Kept rather than NIOExtras' `LengthFieldBasedFrameDecoder`/`LengthFieldPrepender`: those
/// frame a channel's bytes on an event loop, while a pool thread here writes the job and
/// blocks on the reply (polling the pipe for a moment first, so a quick reply is read without
/// a sleep and a wake-up). A round trip through a channel would add a hop to the loop and one
/// back per job, on a path measured at 15–21 µs p50 (`processpool_roundtrip_us`).
package enum PipeIO {
    /// Frames larger than this are refused (64 MiB).
    package static let maxFrameBytes = 64 << 20

    /// Writes one frame. False when the pipe is closed.
    package static func writeFrame(_ fd: Int32, _ payload: [UInt8]) -> Bool {
        var frame = ByteBuffer()
        frame.reserveCapacity(payload.count + 4)
        frame.writeInteger(UInt32(payload.count))
        frame.writeBytes(payload)
        return frame.withUnsafeReadableBytes { writeAll(fd, $0) }
    }

    /// Reads one frame. Nil on end of file, error or an oversized frame. When `spinNanos` > 0,
    /// first polls the pipe without sleeping for up to that long: a reply or request that comes
    /// within it is read without the thread being put to sleep and woken again (tens of
    /// microseconds on a virtual machine).
    package static func readFrame(_ fd: Int32, spinNanos: UInt64 = 0) -> [UInt8]? {
        if spinNanos > 0 { spinUntilReadable(fd, nanos: spinNanos) }
        var header = [UInt8](repeating: 0, count: 4)
        guard readExactly(fd, &header, 4) else { return nil }
        guard let length = ByteBuffer(bytes: header).getInteger(at: 0, as: UInt32.self), Int(length) <= maxFrameBytes else { return nil }
        let n = Int(length)
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

    package static func writeAll(_ fd: Int32, _ raw: UnsafeRawBufferPointer) -> Bool {
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
