// Arbitrary bytes on an HTTP connection, through the server's own pipeline
// (`LoopScopeServer.configureConnection`: ConnectionGuard, NIO's HTTP/1 decoder and error
// handling, HTTPHandler with routing) in an `EmbeddedChannel`.
//
// Input: the first byte is the read size (0 = everything at once); the rest is what the
// client sends. Checked for every input, besides not crashing: once every timeout has passed
// (virtual time), the connection is closed — no input holds a connection.
import Logging
import LoopScopeRuntime
import NIOCore
import NIOEmbedded

/// A server that is never started: its routes all run on the loop (the embedded loop is the
/// only thread a request may touch), its pools sit idle (one thread, one worker process: this
/// executable in worker mode, see main.swift).
let server: LoopScopeServer = {
    let hello = ComputeJob("hello") { _ in Array("hello\n".utf8) }
    let user = ComputeJob("user") { Array("user \($0.parameters["id"] ?? "")\n".utf8) }
    let echo = ComputeJob("echo") { $0.body }
    let sum = ComputeJob("sum") { input in
        let a = try input.integer("a", default: 0, in: 0...1000)
        let b = try input.integer("b", default: 0, in: 0...1000)
        return Array("\(a + b)\n".utf8)
    }
    var config = ServerConfiguration()
    config.name = "fuzz"
    config.eventLoops = 1
    config.threadPoolSize = 1
    config.processPoolSize = 1
    config.poolPolling = .zero
    config.metricsEndpoint = true
    config.maxBodyBytes = 1024
    return try! LoopScopeServer(configuration: config, routes: [
        try Route("/hello", job: hello),
        try Route("/users/:id", job: user),
        try Route("/users/:id/orders/:order", method: "DELETE", job: user),
        try Route("/echo", method: "POST", job: echo),
        try Route("/sum", job: sum),
    ], logger: Logger(label: "fuzz") { _ in SwiftLogNoOpLogHandler() })
}()

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzHTTPRequest(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = UnsafeBufferPointer(start: start, count: count)
    guard let first = input.first else { return 0 }
    let bytes = input.dropFirst()
    let readSize = Int(first)
    let channel = EmbeddedChannel()
    try! server.configureConnection(channel, loopIndex: 0)
    try! channel.connect(to: try! SocketAddress(ipAddress: "127.0.0.1", port: 40000)).wait()

    var offset = bytes.startIndex
    while offset < bytes.endIndex, channel.isActive {
        let end = readSize == 0 ? bytes.endIndex : min(bytes.endIndex, offset + readSize)
        try! channel.writeInbound(channel.allocator.buffer(bytes: bytes[offset..<end]))
        offset = end
    }
    channel.embeddedEventLoop.advanceTime(by: .seconds(60))
    precondition(!channel.isActive, "the connection is still open after every timeout")
    _ = try! channel.finish(acceptAlreadyClosed: true)
    return 0
}
