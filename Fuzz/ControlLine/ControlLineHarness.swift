// Arbitrary bytes on a control connection, through the real handler
// (`LineFramer`, `WireCodec.decodeRequest`, `ControlSession`, the agent's commands).
//
// Input: the first byte is the read size (0 = everything at once; its top bit makes the
// connection read-only); the rest is what the client sends. Checked for every input, besides
// not crashing: every line the server writes is a protocol message, and every request line
// (every non-blank line, however bad) gets exactly one reply.
import Logging
import LoopScopeAgent
import LoopScopeWire
import NIOCore
import NIOEmbedded

/// The agent every input talks to: no routes, pools or watchdog, one offload point, so
/// commands succeed (`route` of the offload point) or fail without touching threads.
let core: AgentCore = {
    let core = try! AgentCore(configuration: AgentConfiguration(), loopCount: 1, routes: [],
                              logger: Logger(label: "fuzz") { _ in SwiftLogNoOpLogHandler() })
    _ = core.offloads.point("render", in: core)
    return core
}()
let cache = SnapshotCache(core: core)
/// The line limit: the real one is 64 KiB; framing is the same at 1 KiB, and short inputs (fast
/// ones) reach `line_too_long`.
let maxLineBytes = 1024
/// libFuzzer calls the harness on one thread only.
nonisolated(unsafe) let codec = WireCodec()

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzControlLine(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = UnsafeBufferPointer(start: start, count: count)
    guard let first = input.first else { return 0 }
    let bytes = input.dropFirst()
    let readSize = Int(first & 0x7f)
    let channel = EmbeddedChannel(handler: ControlHandler(core: core, cache: cache, readOnly: first & 0x80 != 0, actor: "fuzz", maxLineBytes: maxLineBytes))
    try! channel.connect(to: try! SocketAddress(unixDomainSocketPath: "/fuzz")).wait()

    var offset = bytes.startIndex
    while offset < bytes.endIndex {
        let end = readSize == 0 ? bytes.endIndex : min(bytes.endIndex, offset + readSize)
        try! channel.writeInbound(channel.allocator.buffer(bytes: bytes[offset..<end]))
        offset = end
    }

    var written: [UInt8] = []
    while let buffer = try! channel.readOutbound(as: ByteBuffer.self) { written += buffer.readableBytesView }
    var replies = 0
    for line in written.split(separator: UInt8(ascii: "\n")) {
        guard let message = try? codec.decodeServerMessage(Array(line)) else {
            fatalError("the server wrote a line that is not a protocol message: \(String(decoding: line, as: UTF8.self))")
        }
        if message.ok != nil { replies += 1 }
    }

    var framer = LineFramer(maxLineBytes: maxLineBytes)
    framer.append(bytes)
    var requests = 0
    while framer.next() != nil { requests += 1 }
    precondition(replies == requests, "\(requests) request lines got \(replies) replies")
    _ = try! channel.finish()
    return 0
}
