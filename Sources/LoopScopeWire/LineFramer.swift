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
                if discarding {
                    let total = discarded + nl
                    buffer.removeSubrange(0...nl)
                    scanFrom = 0
                    discarding = false
                    discarded = 0
                    return .tooLong(bytes: total)
                }
                var line = Array(buffer[0..<nl])
                buffer.removeSubrange(0...nl)
                scanFrom = 0
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                if line.count > maxLineBytes { return .tooLong(bytes: line.count) }
                if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) { continue }
                return .line(line)
            }
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
