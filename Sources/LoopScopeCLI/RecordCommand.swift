import ArgumentParser
import Foundation
import LoopScopeClient
import LoopScopeWire
import NIOConcurrencyHelpers

/// `loopscope record`: streams snapshots to an NDJSON file for replay in the dashboard.
struct RecordCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "record", abstract: "Stream snapshots to an NDJSON file, for `loopscope attach --replay`.")

    @OptionGroup var target: TargetOptions
    @Option(name: .shortAndLong, help: "File to write.") var output: String
    @Option(help: "Interval between snapshots, e.g. 1s, 250ms (100ms to 10s).") var every = "1s"
    @Option(parsing: .unconditional, help: "Stop after this many snapshots (default: until Ctrl-C).") var count: Int?

    func validate() throws {
        let ms = try Interval.parse(every)
        guard Limit.subscriptionIntervalMillis.contains(ms) else { throw ValidationError(Limit.subscriptionIntervalMillis.refusal("--every", ms)) }
        if let count, count < 1 { throw ValidationError("--count must be at least 1") }
    }

    func run() async throws {
        if let group = target.group { return try await recordGroup(group) }
        let client = try await target.connect()
        let sink = try OutputSink(path: output)
        var written = 0
        let stream = try await client.subscribe(intervalMs: try Interval.parse(every))
        let stop = Task { await SignalWaiterBridge.wait(); await client.close() }
        for await frame in stream {
            sink.write(DumpFormat.ndjson.render(frame.snapshot, first: written == 0))
            written += 1
            if let count, written >= count { break }
        }
        stop.cancel()
        sink.close()
        await client.close()
        FileHandle.standardError.write(Data("recorded \(written) snapshots to \(output)\n".utf8))
    }
}

extension RecordCommand {
    /// `--group`: every interval, one snapshot of the group (`GroupMerge` of the workers that
    /// answer: a worker being restarted is left out until its successor streams), as
    /// `attach --group` shows it, so `attach --replay` plays it back like one server's.
    private func recordGroup(_ group: String) async throws {
        let ms = try Interval.parse(every)
        let feed = try GroupFeed(group: group, directory: target.controlDir ?? SocketDirectory.defaultPath()) { size in
            Dictionary(uniqueKeysWithValues: (0..<size).map { ($0, ms) })
        }
        let latest = NIOLockedValueBox<[Int: Snapshot]>([:])
        let events = feed.start()
        let pump = Task {
            for await e in events {
                switch e.event {
                case .frame(let frame): latest.withLockedValue { $0[e.worker] = frame.snapshot }
                case .disconnected: latest.withLockedValue { $0[e.worker] = nil }
                case .connected: break
                }
            }
        }
        let signalled = NIOLockedValueBox(false)
        let stop = Task {
            await SignalWaiterBridge.wait()
            signalled.withLockedValue { $0 = true }
        }
        let sink = try OutputSink(path: output)
        var written = 0
        while count.map({ written < $0 }) ?? true {
            try? await Task.sleep(nanoseconds: UInt64(ms) * 1_000_000)
            if signalled.withLockedValue({ $0 }) { break }
            let workers = latest.withLockedValue { $0 }.map { WorkerSnapshot(worker: $0.key, snapshot: $0.value) }
            // Every worker gone for now: nothing to merge this time.
            if workers.isEmpty { continue }
            sink.write(DumpFormat.ndjson.render(GroupMerge.merge(workers, group: group), first: written == 0))
            written += 1
        }
        stop.cancel()
        feed.stop()
        pump.cancel()
        sink.close()
        FileHandle.standardError.write(Data("recorded \(written) snapshots of group \(group) to \(output)\n".utf8))
    }
}

/// Parses `500ms`, `1s`, `2.5s` or a bare number of milliseconds into milliseconds.
enum Interval {
    static func parse(_ text: String) throws -> Int {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        let ms: Double?
        if t.hasSuffix("ms") { ms = Double(t.dropLast(2)) }
        else if t.hasSuffix("s") { ms = Double(t.dropLast()).map { $0 * 1000 } }
        else { ms = Double(t) }
        guard let ms, ms.isFinite, ms >= 1, ms <= 86_400_000 else { throw ValidationError("'\(text)' is not an interval like 500ms or 1s") }
        return Int(ms)
    }
}

/// Stdout or a file.
final class OutputSink {
    private let handle: FileHandle
    private let isFile: Bool

    init(path: String?) throws {
        if let path {
            guard FileManager.default.createFile(atPath: path, contents: nil), let h = FileHandle(forWritingAtPath: path) else {
                throw CLIError("cannot write \(path)")
            }
            handle = h
            isFile = true
        } else {
            handle = FileHandle.standardOutput
            isFile = false
        }
    }

    func write(_ text: String) { handle.write(Data(text.utf8)) }
    func close() { if isFile { handle.closeFile() } }
}
