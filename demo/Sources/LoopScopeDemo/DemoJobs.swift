#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LoopScopeAgent
import LoopScopeRuntime

/// The demo's compute stages, registered by name so worker processes can run them too.
public enum DemoJobs {
    public static let hello = ComputeJob("hello") { _ in helloBody }
    private static let helloBody = Array("hello\n".utf8)

    /// About `ms` (default 5) milliseconds of real CPU work.
    public static let hash = ComputeJob("hash") { input in
        let ms = try input.integer("ms", default: 5, in: 0...10_000)
        let digest = CPUWork.hash(milliseconds: Double(ms), seed: UInt64(truncatingIfNeeded: input.parameters.count))
        return Array("hash \(String(digest, radix: 16)) after \(ms) ms of CPU\n".utf8)
    }

    /// About `ms` (default 50) milliseconds of CPU: a heavy report.
    public static let report = ComputeJob("report") { input in
        let ms = try input.integer("ms", default: 50, in: 0...10_000)
        let digest = CPUWork.hash(milliseconds: Double(ms), seed: 7)
        return Array("report \(String(digest, radix: 16)) after \(ms) ms of CPU\n".utf8)
    }

    /// A blocking call: sleeps the thread for `ms` (default 10) milliseconds.
    public static let sleep = ComputeJob("sleep") { input in
        let ms = try input.integer("ms", default: 10, in: 0...10_000)
        usleep(useconds_t(ms * 1000))
        return Array("slept \(ms) ms (blocking)\n".utf8)
    }

    /// Combines the upstream answers of /fanout: trivial work.
    public static let merge = ComputeJob("merge") { input in
        let lines = input.body.split(separator: UInt8(ascii: "\n")).count
        return Array("merged \(lines) upstream answers, \(input.body.count) bytes\n".utf8)
    }

    /// The compute phase of /mixed: about `ms` (default 5) ms of CPU over the upstream answer.
    public static let digest = ComputeJob("digest") { input in
        let ms = try input.integer("ms", default: 5, in: 0...10_000)
        let d = CPUWork.hash(milliseconds: Double(ms), seed: UInt64(input.body.count))
        return Array("digest \(String(d, radix: 16)) of \(input.body.count) upstream bytes after \(ms) ms of CPU\n".utf8)
    }

    /// Says where it ran: process id, thread name, whether inside a Swift task.
    public static let whereAmI = ComputeJob("where") { _ in
        let inTask = withUnsafeCurrentTask { $0 != nil }
        return Array("pid=\(getpid()) thread=\(ThreadName.current) task=\(inTask)\n".utf8)
    }

    /// Answers with the body its prepare stage produced: for routes whose work is all async.
    public static let passThrough = ComputeJob("pass-through") { input in input.body }

    /// Always fails: for testing error handling.
    public static let fail = ComputeJob("fail") { _ in throw JobError.failed("this route always fails") }

    /// An invoice rendered from an order: CPU work with Codable input and output, so an
    /// offload point can also run it in a worker process (the Hummingbird demo's /invoices).
    public static let renderInvoice = OffloadJob("render-invoice") { (order: InvoiceOrder) -> Invoice in
        let digest = CPUWork.hash(milliseconds: Double(order.milliseconds), seed: UInt64(order.id.utf8.count))
        return Invoice(id: order.id, digest: String(digest, radix: 16), renderedBy: getpid())
    }

    /// Every job, for `ProcessWorker.runIfRequested(jobs:)`.
    public static let all: [ComputeJob] = [hello, hash, report, sleep, merge, digest, whereAmI, passThrough, fail, DemoDatabase.queryJob,
                                           renderInvoice.computeJob]
}

/// What `DemoJobs.renderInvoice` renders.
public struct InvoiceOrder: Codable, Sendable, Equatable {
    public var id: String
    /// CPU the rendering takes.
    public var milliseconds: Int

    public init(id: String, milliseconds: Int) {
        self.id = id
        self.milliseconds = milliseconds
    }
}

/// A rendered invoice, with the process that rendered it. Only `renderInvoice` makes one.
public struct Invoice: Codable, Sendable, Equatable {
    public var id: String
    public var digest: String
    public var renderedBy: Int32
}
