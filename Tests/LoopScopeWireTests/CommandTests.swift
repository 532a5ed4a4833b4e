import Testing
import LoopScopeWire

@Suite struct CommandTests {
    let codec = WireCodec()

    func decode(_ line: String) -> (Int?, Result<Command, WireError>) {
        codec.decodeRequest(Array(line.utf8))
    }

    @Test func decodesEveryOperation() throws {
        #expect(try decode(#"{"id":1,"op":"hello","versions":[1]}"#).1.get() == .hello(versions: [1], client: nil))
        #expect(try decode(#"{"id":2,"op":"subscribe","intervalMs":250}"#).1.get() == .subscribe(intervalMs: 250))
        #expect(try decode(#"{"id":2,"op":"subscribe","intervalMs":250,"skipUnchanged":true}"#).1.get() == .subscribe(intervalMs: 250, skipUnchanged: true))
        #expect(try decode(#"{"id":3,"op":"route","route":"/hash","model":"threads"}"#).1.get() == .route(method: "GET", path: "/hash", model: .threads))
        #expect(try decode(#"{"id":4,"op":"resize","pool":"threads","size":8}"#).1.get() == .resize(pool: "threads", size: 8))
        #expect(try decode(#"{"id":5,"op":"limit","pool":"threads","limit":256}"#).1.get() == .limit(pool: "threads", limit: 256))
        #expect(try decode(#"{"id":6,"op":"fix","diagnosis":"cpu-on-loop:/hash"}"#).1.get() == .fix(diagnosis: "cpu-on-loop:/hash"))
        #expect(try decode(#"{"id":7,"op":"events","since":3}"#).1.get() == .events(since: 3))
        #expect(try decode(#"{"op":"snapshot"}"#).1.get() == .snapshot)
    }

    @Test func roundTripsCommandsThroughTheWireForm() throws {
        let commands: [Command] = [.hello(versions: [1], client: "x"), .snapshot, .subscribe(intervalMs: 100), .subscribe(intervalMs: 200, skipUnchanged: true), .unsubscribe,
                                   .route(method: "GET", path: "/a", model: .processes), .resize(pool: "p", size: 3),
                                   .limit(pool: "p", limit: 9), .fix(diagnosis: "d"), .events(since: 2)]
        for c in commands {
            let line = codec.encode(c.request(id: 9))
            let (id, parsed) = codec.decodeRequest(line)
            #expect(id == 9)
            #expect(try parsed.get() == c)
        }
    }

    @Test(arguments: [
        (#"not json"#, WireError.Code.invalidJSON),
        (#"[1,2]"#, .badRequest),
        (#"{"id":"x","op":"snapshot"}"#, .badRequest),
        (#"{"id":1}"#, .badRequest),
        (#"{"id":1,"op":"dance"}"#, .unknownOp),
        (#"{"id":1,"op":"resize","pool":"threads","size":-3}"#, .outOfRange),
        (#"{"id":1,"op":"resize","pool":"threads","size":0}"#, .outOfRange),
        (#"{"id":1,"op":"resize","pool":"threads","size":100000}"#, .outOfRange),
        (#"{"id":1,"op":"resize","pool":"threads","size":"8"}"#, .badRequest),
        (#"{"id":1,"op":"resize","size":8}"#, .badRequest),
        (#"{"id":1,"op":"subscribe","intervalMs":5}"#, .outOfRange),
        (#"{"id":1,"op":"route","route":"/hash","model":"fibers"}"#, .badRequest),
    ])
    func rejectsBadInputWithAStructuredError(line: String, code: WireError.Code) {
        let (_, result) = decode(line)
        guard case .failure(let e) = result else {
            Issue.record("accepted \(line)")
            return
        }
        #expect(e.code == code, "\(line): \(e)")
        #expect(!e.message.isEmpty)
    }
}
