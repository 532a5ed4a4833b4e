import ArgumentParser
import Foundation
import LoopScopeClient
import LoopScopeWire
import NIOConcurrencyHelpers

/// Output formats of `dump`.
enum DumpFormat: String, ExpressibleByArgument, CaseIterable {
    case json, ndjson, prometheus, csv, table

    /// One snapshot in this format; `first` says whether a header (CSV) is due.
    func render(_ s: Snapshot, first: Bool) -> String {
        switch self {
        case .json: return String(decoding: WireCodec(prettyPrinted: true).encode(s), as: UTF8.self) + "\n"
        case .ndjson: return String(decoding: WireCodec().encodeLine(s), as: UTF8.self)
        case .prometheus: return PrometheusText.render(s)
        case .csv: return SnapshotCSV.render(s, includeHeader: first)
        case .table: return SnapshotTable.render(s)
        }
    }
}

/// `loopscope dump`: snapshots for scripts, CI and bug reports.
struct DumpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dump", abstract: "Write one or more snapshots as JSON, NDJSON, Prometheus text, CSV or a table.")

    @OptionGroup var target: TargetOptions
    @Option(name: .shortAndLong, help: "json, ndjson, prometheus, csv or table.") var format: DumpFormat = .json
    @Option(help: "Take a snapshot this often, e.g. 1s or 500ms (with --count).") var every: String?
    @Option(parsing: .unconditional, help: "How many snapshots to take.") var count = 1
    @Option(name: .shortAndLong, help: "Write to this file instead of stdout.") var output: String?
    @Flag(help: "With --group: one snapshot of the whole group (counts summed, histograms merged, each worker's loops listed) instead of each worker's.") var merged = false

    func validate() throws {
        guard count >= 1 else { throw ValidationError("--count must be at least 1") }
        if let every { _ = try Interval.parse(every) }
        if merged, target.group == nil { throw ValidationError("--merged merges the workers of a --group") }
        if target.group != nil, !merged, format == .prometheus || format == .csv {
            throw ValidationError("--group dumps each worker's snapshot in turn: use json, ndjson or table, or --merged for one snapshot of the group (Prometheus text and CSV of several servers would repeat their headers; scrape each worker instead)")
        }
    }

    func run() async throws {
        let interval = try every.map(Interval.parse) ?? 1000
        if target.group != nil { return try await dumpGroup() }
        let client = try await target.connect()
        let sink = try OutputSink(path: output)
        for i in 0..<count {
            if i > 0 { try await Task.sleep(nanoseconds: UInt64(interval) * 1_000_000) }
            let snapshot = try await client.snapshot()
            sink.write(format.render(snapshot, first: i == 0))
        }
        sink.close()
        await client.close()
    }
}

extension DumpCommand {
    /// Each worker of `--group` in turn, every round (asked at once): its snapshot carries
    /// `server.member`; a table gets a heading per worker. With `--merged`, one snapshot of
    /// the group (`GroupMerge`) a round.
    private func dumpGroup() async throws {
        let members = try target.groupMembers()
        guard let group = target.group else { return }
        var clients: [ControlClient] = []
        do {
            for m in members { clients.append(try await ControlClient.connect(path: m.socket)) }
            try await dumpRounds(clients, members: members, group: group)
        } catch {
            for client in clients { await client.close() }
            throw error
        }
        for client in clients { await client.close() }
    }

    private func dumpRounds(_ clients: [ControlClient], members: [ServerAnnouncement], group: String) async throws {
        let interval = try every.map(Interval.parse) ?? 1000
        let sink = try OutputSink(path: output)
        defer { sink.close() }
        for i in 0..<count {
            if i > 0 { try await Task.sleep(nanoseconds: UInt64(interval) * 1_000_000) }
            let round = await FanOut.run(Array(clients.indices)) { w in try await clients[w].snapshot() }
            var snapshots: [WorkerSnapshot] = []
            for (w, outcome) in round {
                snapshots.append(WorkerSnapshot(worker: members[w].member?.worker ?? w, snapshot: try outcome.get()))
            }
            if merged {
                sink.write(format.render(GroupMerge.merge(snapshots, group: group), first: i == 0))
                continue
            }
            for (m, s) in zip(members, snapshots) {
                if format == .table { sink.write("== \(m.member?.description ?? m.name) (pid \(m.pid))\n") }
                sink.write(format.render(s.snapshot, first: i == 0))
            }
        }
    }
}
