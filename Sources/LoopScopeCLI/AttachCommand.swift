import ArgumentParser
import Foundation
import LoopScopeClient
import LoopScopeCurses
import LoopScopeTUI
import LoopScopeWire

/// `loopscope attach`: the live dashboard.
struct AttachCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attach",
        abstract: "Attach the live dashboard to a running server (or replay a recording)."
    )

    @Argument(help: "Server: pid, name or socket path (default: the only running server, or pick one).") var target: String?
    @Option(help: "Directory where servers announce their sockets.") var controlDir: String?
    @Option(help: "A group of workers (`serve --workers N`), as `loopscope list` shows it (e.g. demo-app/4242): the whole group merged, `v` for each worker.")
    var group: String?
    @Option(parsing: .unconditional, help: "Refresh rate, 1 to 10 Hz.") var refresh = 10
    @Option(help: "Play a recording made by `loopscope record` instead of attaching.") var replay: String?
    @Flag(help: "Use ASCII instead of Unicode glyphs.") var ascii = false
    @Flag(help: "No colours (also when NO_COLOR is set).") var noColor = false
    @Option(help: "Log file while the dashboard owns the terminal.") var log = "/tmp/loopscope-attach-\(getuid()).log"

    func validate() throws {
        guard (1...10).contains(refresh) else { throw ValidationError("--refresh must be 1...10 Hz (the server streams at most every 100 ms), got \(refresh)") }
        if group != nil, target != nil || replay != nil { throw ValidationError("--group attaches to the workers of a group: give no server and no --replay with it") }
    }

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        if let why = CursesBackend.unusableReason(environment: env) { throw CLIError(why) }
        LoggingSetup.bootstrap(toFile: log)
        let state: DashboardState
        var feed: SnapshotFeed? = nil
        var groupFeed: GroupFeed? = nil
        if let group {
            let streams = { (size: Int) in GroupState.streamIntervals(view: .all, workers: size, refreshHz: refresh) }
            let f = try GroupFeed(group: group, directory: controlDir ?? SocketDirectory.defaultPath(), intervalMs: streams)
            // A worker that sends nothing for three of its frames (2 s at least) is shown as not answering.
            let slowest = Double(streams(f.size).values.max() ?? 1000) / 1000
            groupFeed = f
            state = DashboardState(group: group, size: f.size, refreshHz: refresh, staleAfter: max(2, 3 * slowest), now: Date().timeIntervalSince1970)
        } else if let replay {
            let frames = try Recording.load(replay)
            state = DashboardState(replaying: frames, name: replay)
        } else {
            let directory = controlDir ?? SocketDirectory.defaultPath()
            let resolved = try pickTarget(directory: directory)
            let interval = 1000 / refresh
            feed = SnapshotFeed(intervalMs: interval) { try ServerLocator.resolve(resolved, directory: directory) }
            var s = DashboardState(target: resolved, refreshHz: refresh)
            s.now = Date().timeIntervalSince1970
            state = s
        }
        let glyphs: Glyphs = ascii || !TerminalLocale.isUTF8() ? .ascii : .unicode
        let color = !noColor && (env["NO_COLOR"] ?? "").isEmpty
        try await DashboardRunner.run(state: state, feed: feed, groupFeed: groupFeed, glyphs: glyphs, color: color)
    }

    /// The target as given; with none and several servers running, asks which.
    private func pickTarget(directory: String) throws -> String {
        if let target { return target }
        let servers = SocketDirectory.list(directory)
        if servers.count <= 1 {
            if let only = servers.first { return only.socket }
            return try ServerLocator.resolve(nil, directory: directory)
        }
        print("Several servers are running:")
        for (i, s) in servers.enumerated() { print("  \(i + 1)) \(s.name)  pid \(s.pid)  \(s.address)") }
        print("Attach to which? [1-\(servers.count)] ", terminator: "")
        guard let line = readLine(), let n = Int(line.trimmingCharacters(in: .whitespaces)), (1...servers.count).contains(n) else {
            throw CLIError("no server chosen")
        }
        return servers[n - 1].socket
    }
}

/// Reads `loopscope record` files.
enum Recording {
    static func load(_ path: String) throws -> [Snapshot] {
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
        let codec = WireCodec()
        var frames: [Snapshot] = []
        for (n, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() where !line.isEmpty {
            do {
                frames.append(try codec.decode(Snapshot.self, from: Array(line)))
            } catch {
                throw CLIError("\(path) line \(n + 1) is not a snapshot: \(error)")
            }
        }
        guard !frames.isEmpty else { throw CLIError("\(path) holds no snapshots") }
        return frames
    }
}

/// Whether the locale's character set is UTF-8 (after honouring LANG/LC_*).
enum TerminalLocale {
    static func isUTF8() -> Bool {
        setlocale(LC_ALL, "")
        let codeset = String(cString: nl_langinfo(nl_item(CODESET)))
        return codeset.uppercased().replacingOccurrences(of: "-", with: "") == "UTF8"
    }
}
