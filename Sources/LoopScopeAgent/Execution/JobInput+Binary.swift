/// The binary form of `JobInput` used on worker pipes: u32 count, then u32-length-prefixed
/// key and value bytes per parameter, then the body to the end.
extension JobInput {
    package func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(16 + body.count)
        BinaryFrames.appendU32(&out, UInt32(parameters.count))
        for (k, v) in parameters.sorted(by: { $0.key < $1.key }) {
            BinaryFrames.appendBytes(&out, Array(k.utf8))
            BinaryFrames.appendBytes(&out, Array(v.utf8))
        }
        out.append(contentsOf: body)
        return out
    }

    package init?(encoded bytes: ArraySlice<UInt8>) {
        var cursor = bytes.startIndex
        guard let count = BinaryFrames.readU32(bytes, &cursor) else { return nil }
        var parameters: [String: String] = [:]
        for _ in 0..<count {
            guard let k = BinaryFrames.readBytes(bytes, &cursor), let v = BinaryFrames.readBytes(bytes, &cursor) else { return nil }
            parameters[String(decoding: k, as: UTF8.self)] = String(decoding: v, as: UTF8.self)
        }
        self.init(parameters: parameters, body: Array(bytes[cursor...]))
    }
}

/// Big-endian integers and length-prefixed byte strings. Pure.
package enum BinaryFrames {
    package static func appendU32(_ out: inout [UInt8], _ v: UInt32) {
        out.append(UInt8(v >> 24)); out.append(UInt8((v >> 16) & 0xff)); out.append(UInt8((v >> 8) & 0xff)); out.append(UInt8(v & 0xff))
    }

    package static func appendU64(_ out: inout [UInt8], _ v: UInt64) {
        appendU32(&out, UInt32(v >> 32)); appendU32(&out, UInt32(v & 0xffff_ffff))
    }

    package static func appendBytes(_ out: inout [UInt8], _ bytes: [UInt8]) {
        appendU32(&out, UInt32(bytes.count)); out.append(contentsOf: bytes)
    }

    package static func readU32(_ b: ArraySlice<UInt8>, _ i: inout Int) -> UInt32? {
        guard b.endIndex - i >= 4 else { return nil }
        let v = UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
        i += 4
        return v
    }

    package static func readU64(_ b: ArraySlice<UInt8>, _ i: inout Int) -> UInt64? {
        guard let hi = readU32(b, &i), let lo = readU32(b, &i) else { return nil }
        return UInt64(hi) << 32 | UInt64(lo)
    }

    package static func readBytes(_ b: ArraySlice<UInt8>, _ i: inout Int) -> ArraySlice<UInt8>? {
        guard let n = readU32(b, &i), b.endIndex - i >= Int(n) else { return nil }
        defer { i += Int(n) }
        return b[i..<(i + Int(n))]
    }
}
