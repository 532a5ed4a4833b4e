#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LoopScopeRuntime

/// Fake async written the way it is in real handlers: `async` functions that never await
/// anything, so they hold the cooperative-pool thread they run on. `/render` burns CPU in one,
/// `/legacy` makes a blocking call in one.
public enum FakeAsync {
    /// Renders a page: `ms` milliseconds of CPU inside an `async` function.
    @inline(never)
    public static func renderPage(milliseconds ms: Int, seed: UInt64) async -> [UInt8] {
        let digest = CPUWork.hash(milliseconds: Double(ms), seed: seed)
        return Array("<p>page \(String(digest, radix: 16)) rendered in \(ms) ms of CPU</p>\n".utf8)
    }

    /// Calls a legacy synchronous client: the thread sleeps `ms` milliseconds.
    @inline(never)
    public static func legacyLookup(milliseconds ms: Int) async -> [UInt8] {
        usleep(useconds_t(ms * 1000))
        return Array("legacy answer after \(ms) ms (a blocking call inside async code)\n".utf8)
    }

    /// The routes: their compute stage only passes the prepared body on.
    public static func routes() throws -> [Route] {
        [
            try Route("/render", model: .loop, job: DemoJobs.passThrough, contentType: "text/html; charset=utf-8", prepare: { request in
                let ms = try request.defaultInput.integer("ms", default: 8, in: 0...10_000)
                return JobInput(body: await renderPage(milliseconds: ms, seed: UInt64(request.path.utf8.count)))
            }),
            try Route("/legacy", model: .loop, job: DemoJobs.passThrough, prepare: { request in
                let ms = try request.defaultInput.integer("ms", default: 8, in: 0...10_000)
                return JobInput(body: await legacyLookup(milliseconds: ms))
            }),
        ]
    }
}
