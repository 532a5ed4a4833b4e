import ArgumentParser
import Foundation
import LoopScopeClient
import LoopScopeWire

/// `loopscope log`: follows a running server's slow requests, 5xx errors and events, one line
/// each, as `tail -f` follows a file. Read from its snapshots (each route keeps its latest
/// ones), so a burst larger than a route keeps between two looks shows only its latest.
struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Follow a running server's slow requests (with where their time went), 5xx errors and events."
    )

    @OptionGroup var target: TargetOptions
    @Flag(help: "Print what the server keeps now and exit instead of following.") var noFollow = false
    @Option(parsing: .unconditional, help: "Seconds between looks.") var interval = 1.0

    func validate() throws {
        guard interval >= 0.1, interval <= 60 else { throw ValidationError("--interval must be 0.1...60 seconds") }
    }

    func run() async throws {
        let client = try await target.connect()
        defer { Task { await client.close() } }
        var seen = LogFollower()
        while true {
            let snapshot = try await client.snapshot()
            for line in seen.newLines(snapshot) { print(line) }
            fflush(nil)
            if noFollow { return }
            try await Task.sleep(nanoseconds: UInt64(interval * 1e9))
        }
    }
}
