import Testing
@testable import LoopScopeRuntime
@testable import LoopScopeAgent

/// Names as `swift_demangle` wrote them for a real stack of `loopscope serve` (debug build).
@Suite struct StackFramesTests {
    static let hashStack: [String] = [
        "static LoopScopeDemo.CPUWork.mix(rounds: Swift.Int, seed: Swift.UInt64) -> Swift.UInt64",
        "static LoopScopeDemo.CPUWork.hash(milliseconds: Swift.Double, seed: Swift.UInt64) -> Swift.UInt64",
        "closure #1 @Sendable (LoopScopeRuntime.JobInput) throws -> Swift.Array<Swift.UInt8> in variable initialization expression of static LoopScopeDemo.DemoJobs.hash : LoopScopeRuntime.ComputeJob",
        "LoopScopeRuntime.ComputeJob.resultOf(LoopScopeRuntime.JobInput) -> LoopScopeRuntime.ComputeOutcome.Result",
        "LoopScopeRuntime.HTTPHandler.channelRead(context: NIOCore.ChannelHandlerContext, data: NIOCore.NIOAny) -> ()",
        "protocol witness for NIOCore._ChannelInboundHandler.channelRead(context: NIOCore.ChannelHandlerContext, data: NIOCore.NIOAny) -> () in conformance LoopScopeRuntime.HTTPHandler : NIOCore._ChannelInboundHandler in LoopScopeRuntime",
        "NIOCore.ChannelHandlerContext.(invokeChannelRead in _F5AC316541457BD146E3694279514AA3)(NIOCore.NIOAny) -> ()",
        "(extension in NIOCore):NIOCore._ChannelInboundHandler.channelRead(context: NIOCore.ChannelHandlerContext, data: NIOCore.NIOAny) -> ()",
        "@objc closure #10 (Swift.Optional<Swift.UnsafeMutablePointer<__C.c_nio_llhttp__internal_s>>) -> Swift.Int32 in NIOHTTP1.(BetterHTTPParser in _F43193CAFF0FA6BBC607ACDC4F85EA9D).init(kind: NIOHTTP1.HTTPDecoderKind, configuration: NIOHTTP1.NIOHTTPDecoderLimitConfiguration) -> NIOHTTP1.(BetterHTTPParser in _F43193CAFF0FA6BBC607ACDC4F85EA9D)",
        "c_nio_llhttp__on_message_complete",
        "closure #1 (Swift.UnsafeMutablePointer<__C.c_nio_llhttp__internal_s>) -> __C.llhttp_errno in NIOHTTP1.(BetterHTTPParser in _F43193CAFF0FA6BBC607ACDC4F85EA9D).feedInput(Swift.Optional<Swift.UnsafeRawBufferPointer>) throws -> Swift.Int",
        "partial apply forwarder for closure #1 (Swift.UnsafeRawBufferPointer) throws -> Swift.Int in NIOHTTP1.HTTPDecoder.(feedInput in _F43193CAFF0FA6BBC607ACDC4F85EA9D)(context: NIOCore.ChannelHandlerContext, buffer: inout NIOCore.ByteBuffer) throws -> ()",
        "reabstraction thunk helper from @callee_guaranteed (@guaranteed NIOPosix.SelectorEvent<NIOPosix.NIORegistration>) -> (@error @owned Swift.Error) to @escaping @callee_guaranteed (@in_guaranteed NIOPosix.SelectorEvent<NIOPosix.NIORegistration>) -> (@error @owned Swift.Error)",
        "NIOPosix.withAutoReleasePool<A>(() throws -> A) throws -> A",
        "",
    ]

    @Test func theSiteIsTheInnermostApplicationFunctionAndTheRestIsFolded() {
        let frames = Self.hashStack.map { StackFrames.Frame(symbol: $0, object: "loopscope") } + [StackFrames.Frame(symbol: "", object: "libc.so.6")]
        let site = StackFrames.site(frames, executable: "loopscope")
        #expect(site.function == "CPUWork.mix(rounds:seed:)")
        #expect(site.frames == ["CPUWork.mix(rounds:seed:)", "CPUWork.hash(milliseconds:seed:)", "closure #1 in DemoJobs.hash"])
    }

    @Test func shortensSwiftNamesForReading() {
        #expect(StackFrames.shorten("swiftcheck.spinForStallTest(Swift.Int) -> ()") == "spinForStallTest(_:)")
        #expect(StackFrames.shorten("(1) suspend resume partial function for closure #1 () async -> () in static swiftcheck.Main.main() async -> ()") == "closure #1 in Main.main() (async)")
        #expect(StackFrames.shorten("(1) suspend resume partial function for static LoopScopeDemo.FakeAsync.renderPage(milliseconds: Swift.Int, seed: Swift.UInt64) async -> Swift.Array<Swift.UInt8>") == "FakeAsync.renderPage(milliseconds:seed:) (async)")
        #expect(StackFrames.shorten("generic specialization <Swift.Int> of LoopScopeDemo.Box.run<A>(A) -> A") == "Box.run(_:)")
        #expect(StackFrames.shorten("LoopScopeDemo.Cache.size.getter : Swift.Int") == "Cache.size.getter")
        #expect(StackFrames.shorten("App.handle(_: (Swift.Int) -> Swift.String, label: Swift.Dictionary<Swift.String, Swift.Int>) -> ()") == "handle(_:label:)")
        #expect(StackFrames.shorten("usleep") == "usleep")
        #expect(StackFrames.shorten("static LoopScopeRuntimeTests.(PlainHandler in _9D4FD0F5B23A2F3C8E1E7E6F0A7C2B11).render(milliseconds: Swift.Int) -> Swift.UInt64") == "PlainHandler.render(milliseconds:)")
        #expect(StackFrames.module(of: "NIOCore.ChannelHandlerContext.(invokeChannelRead in _F5AC316541457BD146E3694279514AA3)(NIOCore.NIOAny) -> ()") == "NIOCore")
        #expect(StackFrames.shorten("closure #1 () -> () in closure #2 (Swift.Int) -> () in LoopScopeDemo.App.run(_: Swift.Int) -> ()") == "closure #1 in closure #2 in App.run(_:)")
    }

    @Test func knowsWhichModuleAFrameBelongsTo() {
        #expect(StackFrames.module(of: Self.hashStack[2]) == "LoopScopeDemo")
        #expect(StackFrames.module(of: Self.hashStack[7]) == "NIOCore")
        #expect(StackFrames.module(of: Self.hashStack[8]) == "NIOHTTP1")
        #expect(StackFrames.module(of: "usleep") == nil)
        #expect(StackFrames.module(of: "closure #1 (NIOPosix.SelectorEvent<NIOPosix.NIORegistration>) -> () in closure #2 () throws -> () in NIOPosix.SelectableEventLoop.run() throws -> ()") == "NIOPosix")
        #expect(StackFrames.isFolded(.init(symbol: "c_nio_llhttp_execute", object: "loopscope"), executable: "loopscope"))
        #expect(!StackFrames.isFolded(.init(symbol: "sha256_block", object: "loopscope"), executable: "loopscope"))
        #expect(StackFrames.isFolded(.init(symbol: "sha256_block", object: "libcrypto.so.3"), executable: "loopscope"))
    }

    @Test func aStackWithoutApplicationFramesIsOneFrameworkSite() {
        let site = StackFrames.site([.init(symbol: "clock_nanosleep", object: "libc.so.6"), .init(symbol: "usleep", object: "libc.so.6")], executable: "x")
        #expect(site.function == StackFrames.frameworkSite)
        #expect(site.frames == ["clock_nanosleep", "usleep"])
    }
}
