import NIOCore

/// The binary form of `JobInput` used on worker pipes: u32 count, then u32-length-prefixed
/// key and value bytes per parameter, then the body to the end. Big-endian, through
/// `ByteBuffer`'s integer and length-prefix helpers.
extension JobInput {
    package func write(to out: inout ByteBuffer) {
        out.writeInteger(UInt32(parameters.count))
        for (k, v) in parameters.sorted(by: { $0.key < $1.key }) {
            out.writeInteger(UInt32(k.utf8.count))
            out.writeString(k)
            out.writeInteger(UInt32(v.utf8.count))
            out.writeString(v)
        }
        out.writeBytes(body)
    }

    /// Reads what `write(to:)` wrote, to the end of `buffer`; nil when it is cut short.
    package init?(reading buffer: inout ByteBuffer) {
        guard let count = buffer.readInteger(as: UInt32.self) else { return nil }
        var parameters: [String: String] = [:]
        for _ in 0..<count {
            guard let k = buffer.readLengthPrefixedSlice(as: UInt32.self), let v = buffer.readLengthPrefixedSlice(as: UInt32.self) else { return nil }
            parameters[String(buffer: k)] = String(buffer: v)
        }
        self.init(parameters: parameters, body: buffer.readBytes(length: buffer.readableBytes) ?? [])
    }
}
