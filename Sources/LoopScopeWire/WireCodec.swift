import Foundation

/// Encodes and decodes protocol lines (newline-delimited JSON).
///
/// Not thread-safe: keep one per connection or per thread.
public struct WireCodec {
    private let encoder: JSONEncoder
    private let decoder = JSONDecoder()

    public init(prettyPrinted: Bool = false) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = prettyPrinted ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.withoutEscapingSlashes]
        self.encoder = encoder
    }

    /// One JSON document without a trailing newline.
    public func encode<T: Encodable>(_ value: T) -> [UInt8] {
        do {
            return Array(try encoder.encode(value))
        } catch {
            // Our own values always encode; a failure here is a programming error, reported on the wire.
            return Array(#"{"ok":false,"error":{"code":"internal","message":"encoding failed"}}"#.utf8)
        }
    }

    /// One line: the JSON document and a newline.
    public func encodeLine<T: Encodable>(_ value: T) -> [UInt8] {
        var bytes = encode(value)
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    /// Parses a client's request line. The id is recovered for the error reply whenever the line is JSON.
    public func decodeRequest(_ line: [UInt8]) -> (id: Int?, result: Result<Command, WireError>) {
        let data = Data(line)
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            return (nil, .failure(WireError(.invalidJSON, "the line is not valid JSON")))
        }
        guard let dict = object as? [String: Any] else {
            return (nil, .failure(WireError(.badRequest, "a request must be a JSON object")))
        }
        let id = (try? decoder.decode(IDOnly.self, from: data))?.id
        if dict["id"] != nil, !(dict["id"] is NSNull), id == nil {
            return (nil, .failure(WireError(.badRequest, "'id' must be an integer")))
        }
        guard let op = dict["op"] else {
            return (id, .failure(WireError(.badRequest, "a request needs the field 'op'")))
        }
        guard let opName = op as? String else {
            return (id, .failure(WireError(.badRequest, "field 'op' must be a string")))
        }
        guard Command.operations.contains(opName) else {
            return (id, .failure(WireError(.unknownOp, "unknown op '\(opName)'; ops: \(Command.operations.joined(separator: ", "))")))
        }
        let request: ControlRequest
        do {
            request = try decoder.decode(ControlRequest.self, from: data)
        } catch let DecodingError.typeMismatch(type, context) {
            return (id, .failure(WireError(.badRequest, "field '\(Self.path(context.codingPath))' must be \(Self.typeName(type))")))
        } catch let DecodingError.dataCorrupted(context) {
            return (id, .failure(WireError(.badRequest, "field '\(Self.path(context.codingPath))' has a value that does not fit")))
        } catch {
            return (id, .failure(WireError(.badRequest, "the request does not match the protocol")))
        }
        do {
            return (id, .success(try Command(request: request)))
        } catch {
            return (id, .failure(error))
        }
    }

    /// Parses a server line.
    public func decodeServerMessage(_ line: [UInt8]) throws(WireError) -> ServerMessage {
        do {
            return try decoder.decode(ServerMessage.self, from: Data(line))
        } catch {
            throw WireError(.invalidJSON, "unreadable server message: \(error)")
        }
    }

    /// Decodes any value the protocol carries, e.g. a `Snapshot` from a recording.
    public func decode<T: Decodable>(_ type: T.Type, from line: [UInt8]) throws(WireError) -> T {
        do {
            return try decoder.decode(type, from: Data(line))
        } catch {
            throw WireError(.invalidJSON, "unreadable \(type): \(error)")
        }
    }

    private struct IDOnly: Decodable { var id: Int? }

    private static func path(_ keys: [CodingKey]) -> String {
        keys.map(\.stringValue).joined(separator: ".")
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type, is UInt64.Type: return "an integer"
        case is String.Type: return "a string"
        case is [Int].Type: return "an array of integers"
        default: return "of type \(type)"
        }
    }
}
