/// Encodes any `Encodable` value as JSON text straight into bytes, through its `Codable`
/// conformance: the shape of every message is written once (the type's coding keys), and this
/// is the fast path the server uses for every snapshot frame (no intermediate tree, unlike
/// Foundation's `JSONEncoder`). Keys come out in the order the type encodes them; `nil`
/// optionals encoded with `encodeIfPresent` (the synthesised default) are left out. Pure.
public enum JSONStreamEncoder {
    /// The value as one JSON document, without a trailing newline.
    public static func encode<T: Encodable>(_ value: T, capacity: Int = 4096) -> [UInt8] {
        let sink = Sink(capacity: capacity)
        // Errors can only come from the value's own `encode(to:)`; ours throw none.
        try? value.encode(to: StreamEncoder(sink: sink, depth: 0))
        sink.close(to: 0)
        return sink.writer.bytes
    }
}

/// The bytes being written and the containers still open. One per `encode` call; not shared.
private final class Sink {
    var writer: JSONWriter
    /// Open containers, outermost first: `true` for an object, `false` for an array.
    var open: [Bool] = []

    init(capacity: Int) { writer = JSONWriter(capacity: capacity) }

    /// Closes containers deeper than `depth`: a value's encoding ends when its parent writes
    /// the next member, so nested containers are closed lazily.
    func close(to depth: Int) {
        while open.count > depth {
            if open.removeLast() { writer.endObject() } else { writer.endArray() }
        }
    }

    func openObject(at depth: Int) -> Bool {
        close(to: depth + 1)
        if open.count == depth + 1 { return open[depth] }
        writer.beginObject()
        open.append(true)
        return true
    }

    func openArray(at depth: Int) {
        close(to: depth + 1)
        if open.count == depth + 1 { return }
        writer.beginArray()
        open.append(false)
    }
}

private struct StreamEncoder: Encoder {
    let sink: Sink
    /// Containers this encoder's value opens sit at this index of `sink.open`.
    let depth: Int
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        _ = sink.openObject(at: depth)
        return KeyedEncodingContainer(Keyed<Key>(sink: sink, depth: depth))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        sink.openArray(at: depth)
        return Unkeyed(sink: sink, depth: depth)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { Single(sink: sink, depth: depth) }
}

/// Writes one value at `depth` (a member's value or an array element, or the document).
/// Scalars are told apart by comparing metatypes (cheap) before any dynamic cast.
private func write<T: Encodable>(_ value: T, sink: Sink, depth: Int) throws {
    sink.close(to: depth)
    if T.self == UInt64.self { sink.writer.value(unsafeBitCast(value, to: UInt64.self)); return }
    if T.self == Double.self { sink.writer.value(unsafeBitCast(value, to: Double.self)); return }
    if T.self == Int.self { sink.writer.value(unsafeBitCast(value, to: Int.self)); return }
    if T.self == String.self { sink.writer.value(value as! String); return }
    if T.self == Bool.self { sink.writer.value(unsafeBitCast(value, to: Bool.self)); return }
    if T.self == Int32.self { sink.writer.value(unsafeBitCast(value, to: Int32.self)); return }
    if T.self == UInt32.self { sink.writer.value(UInt64(unsafeBitCast(value, to: UInt32.self))); return }
    switch value {
    case let v as Int64: sink.writer.value(Int(v))
    case let v as UInt: sink.writer.value(UInt64(v))
    case let v as Int8: sink.writer.value(Int(v))
    case let v as Int16: sink.writer.value(Int(v))
    case let v as UInt8: sink.writer.value(UInt64(v))
    case let v as UInt16: sink.writer.value(UInt64(v))
    case let v as Float: sink.writer.value(Double(v))
    default:
        try value.encode(to: StreamEncoder(sink: sink, depth: depth))
        sink.close(to: depth)
    }
}

private struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let sink: Sink
    let depth: Int
    var codingPath: [any CodingKey] { [] }

    private func key(_ key: Key) {
        sink.close(to: depth + 1)
        sink.writer.key(key.stringValue)
    }

    mutating func encodeNil(forKey key: Key) throws { self.key(key); sink.writer.null() }
    mutating func encode(_ value: Bool, forKey key: Key) throws { self.key(key); sink.writer.value(value) }
    mutating func encode(_ value: String, forKey key: Key) throws { self.key(key); sink.writer.value(value) }
    mutating func encode(_ value: Double, forKey key: Key) throws { self.key(key); sink.writer.value(value) }
    mutating func encode(_ value: Int, forKey key: Key) throws { self.key(key); sink.writer.value(value) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { self.key(key); sink.writer.value(value) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        self.key(key)
        if T.self == [UInt64].self {
            sink.close(to: depth + 1)
            sink.writer.values(unsafeBitCast(value, to: [UInt64].self))
            return
        }
        try write(value, sink: sink, depth: depth + 1)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        self.key(key)
        return StreamEncoder(sink: sink, depth: depth + 1).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        self.key(key)
        return StreamEncoder(sink: sink, depth: depth + 1).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        sink.close(to: depth + 1)
        sink.writer.key("super")
        return StreamEncoder(sink: sink, depth: depth + 1)
    }
    mutating func superEncoder(forKey key: Key) -> any Encoder {
        self.key(key)
        return StreamEncoder(sink: sink, depth: depth + 1)
    }
}

private struct Unkeyed: UnkeyedEncodingContainer {
    let sink: Sink
    let depth: Int
    private(set) var count = 0
    var codingPath: [any CodingKey] { [] }

    init(sink: Sink, depth: Int) {
        self.sink = sink
        self.depth = depth
    }

    mutating func encodeNil() throws { sink.close(to: depth + 1); sink.writer.null(); count += 1 }
    mutating func encode<T: Encodable>(_ value: T) throws {
        try write(value, sink: sink, depth: depth + 1)
        count += 1
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        count += 1
        sink.close(to: depth + 1)
        return StreamEncoder(sink: sink, depth: depth + 1).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        count += 1
        sink.close(to: depth + 1)
        return StreamEncoder(sink: sink, depth: depth + 1).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        count += 1
        sink.close(to: depth + 1)
        return StreamEncoder(sink: sink, depth: depth + 1)
    }
}

private struct Single: SingleValueEncodingContainer {
    let sink: Sink
    let depth: Int
    var codingPath: [any CodingKey] { [] }

    mutating func encodeNil() throws { sink.close(to: depth); sink.writer.null() }
    mutating func encode<T: Encodable>(_ value: T) throws { try write(value, sink: sink, depth: depth) }
}
