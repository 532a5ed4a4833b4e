/// A field added to a wire type after its schema version shipped: a message from an older
/// server lacks it, and decoding reads it as `Value.whenAbsent` (zero, empty) instead of
/// failing. It encodes as its bare value, so the JSON shape is the field's own.
///
/// Written on the property (`@AddedLater public var poolWaitMicros: Double = 0`), so the type
/// keeps its synthesized `Codable` and says each field once; the `KeyedDecodingContainer`
/// overload below is what the synthesized decoder calls for it.
@propertyWrapper
public struct AddedLater<Value: AbsentAsDefault>: Codable, Equatable {
    public var wrappedValue: Value

    public init(wrappedValue: Value) { self.wrappedValue = wrappedValue }

    public init(from decoder: any Decoder) throws { wrappedValue = try Value(from: decoder) }

    public func encode(to encoder: any Encoder) throws { try wrappedValue.encode(to: encoder) }
}

extension AddedLater: Sendable where Value: Sendable {}

/// What an `@AddedLater` field reads as when an older server's message lacks it.
public protocol AbsentAsDefault: Codable, Equatable {
    static var whenAbsent: Self { get }
}

extension UInt64: AbsentAsDefault { public static var whenAbsent: UInt64 { 0 } }
extension Double: AbsentAsDefault { public static var whenAbsent: Double { 0 } }
extension Array: AbsentAsDefault where Element: Codable & Equatable { public static var whenAbsent: [Element] { [] } }

extension KeyedDecodingContainer {
    /// An `@AddedLater` field: its default when the key is absent.
    public func decode<Value>(_ type: AddedLater<Value>.Type, forKey key: Key) throws -> AddedLater<Value> {
        try decodeIfPresent(type, forKey: key) ?? AddedLater(wrappedValue: .whenAbsent)
    }
}
