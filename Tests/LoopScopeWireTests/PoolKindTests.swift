import Foundation
import Testing
import LoopScopeWire

@Suite struct PoolKindTests {
    @Test func everyKindTravelsAsTheStringTheProtocolDocumentNames() throws {
        let doc = ProtocolDocumentTests.document
        for kind in PoolKind.allCases {
            let pool = PoolFigures(name: "p", kind: kind, size: 1, live: 1, busy: 0, queued: 0, queueLimit: 1)
            let text = String(decoding: JSONStreamEncoder.encode(pool), as: UTF8.self)
            #expect(text.contains(#""kind":"\#(kind.rawValue)""#))
            #expect(try JSONDecoder().decode(PoolFigures.self, from: Data(text.utf8)).kind == kind)
            #expect(doc.contains("`\(kind.rawValue)`"), "docs/PROTOCOL.md names the kind \(kind.rawValue)")
        }
    }

    @Test func theModelsThatRunOnAPoolEachHaveAKindOfTheirOwn() {
        let pooled = ExecutionModel.allCases.filter { $0.pool != nil }
        #expect(pooled == [.threads, .processes])
        #expect(Set(pooled.compactMap(\.pool)).count == pooled.count)
    }

    @Test func aModelRunsOnTheFirstPoolOfItsKindWhateverThePoolsAreCalled() {
        func pool(_ name: String, _ kind: PoolKind) -> PoolFigures {
            PoolFigures(name: name, kind: kind, size: 1, live: 1, busy: 0, queued: 0, queueLimit: 1)
        }
        let s = Snapshot(server: ServerInfo(name: "n", pid: 1, startedAt: 0, uptimeSeconds: 0, address: ""),
                         pools: [pool("db", .connections), pool("offload", .threads), pool("workers", .processes), pool("images", .threads)])
        #expect(s.pool(for: .threads)?.name == "offload")
        #expect(s.pool(for: .processes)?.name == "workers")
        #expect(s.pool(for: .loop) == nil)
        #expect(s.pool(for: .task) == nil)
    }
}
