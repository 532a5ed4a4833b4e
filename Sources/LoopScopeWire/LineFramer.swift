/// Splits a byte stream into lines with a size limit. Pure: feed bytes, take lines.
///
/// A line longer than `maxLineBytes` is discarded up to its newline and reported once as
/// `.tooLong`; the stream stays usable.
public struct LineFramer: Sendable {
    /// What `next()` yields.
    public enum Item: Equatable, Sendable {
        case line([UInt8])
        case tooLong(bytes: Int)
    }

    public let maxLineBytes: Int
    private var buffer: [UInt8] = []
    /// Where the bytes not yet returned start. Returned lines are dropped from the buffer once
    /// `next()` runs out of lines, all together: dropping each line from the front as it is
    /// returned copied the rest of the read every time (quadratic in the lines of one read).
    private var start = 0
    private var discarding = false
    private var discarded = 0
    private var scanFrom = 0

    public init(maxLineBytes: Int = 64 * 1024) {
        self.maxLineBytes = maxLineBytes
    }

    /// Appends received bytes.
    public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        buffer.append(contentsOf: bytes)
    }

    /// The next complete line (without `\n` or a trailing `\r`), or nil when more bytes are needed.
    public mutating func next() -> Item? {
        while true {
            if let nl = buffer[scanFrom...].firstIndex(of: UInt8(ascii: "\n")) {
                let lineStart = start
                start = nl + 1
                scanFrom = start
                if discarding {
                    let total = discarded + nl - lineStart
                    discarding = false
                    discarded = 0
                    return .tooLong(bytes: total)
                }
                var end = nl
                if end > lineStart, buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                if end - lineStart > maxLineBytes { return .tooLong(bytes: end - lineStart) }
                let line = buffer[lineStart..<end]
                if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) { continue }
                return .line(Array(line))
            }
            buffer.removeSubrange(0..<start)
            start = 0
            if buffer.count > maxLineBytes {
                discarding = true
                discarded += buffer.count
                buffer.removeAll(keepingCapacity: true)
            }
            scanFrom = buffer.count
            return nil
        }
    }
}
