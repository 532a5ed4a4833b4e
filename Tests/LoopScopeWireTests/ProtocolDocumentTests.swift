import Foundation
import Testing
import LoopScopeWire

@Suite struct ProtocolDocumentTests {
    static var document: String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return (try? String(contentsOf: root.appendingPathComponent("docs/PROTOCOL.md"), encoding: .utf8)) ?? ""
    }

    @Test func everyExampleInProtocolDocParses() throws {
        let lines = Self.document.split(separator: "\n").map(String.init)
        let requests = lines.filter { $0.hasPrefix("→ ") }.map { String($0.dropFirst(2)) }
        let refused = lines.filter { $0.hasPrefix("→! ") }.map { String($0.dropFirst(3)) }
        let replies = lines.filter { $0.hasPrefix("← ") }.map { String($0.dropFirst(2)) }
        #expect(requests.count >= 9)
        #expect(replies.count >= 14)
        let codec = WireCodec()
        var ops = Set<String>()
        for r in requests {
            let (_, result) = codec.decodeRequest(Array(r.utf8))
            let command = try result.get()
            ops.insert(command.request(id: nil).op)
        }
        #expect(ops == Set(Command.operations), "every operation has an example")
        for r in refused {
            let (_, result) = codec.decodeRequest(Array(r.utf8))
            if case .success = result {
                // Refused by the server's state (unknown route), not by the codec: still a valid shape.
                #expect(r.contains("/nope"), "\(r) should be refused")
            }
        }
        for r in replies {
            _ = try codec.decodeServerMessage(Array(r.utf8))
        }
    }
}
