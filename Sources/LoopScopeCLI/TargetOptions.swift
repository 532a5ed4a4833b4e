import ArgumentParser
import LoopScopeClient
import LoopScopeWire

/// How a client command picks its server: positional or `--server` pid, name or socket path.
struct TargetOptions: ParsableArguments {
    @Option(name: [.short, .long], help: "Server to talk to: pid, name or socket path (default: the only running server).")
    var server: String?

    @Option(help: "Directory where servers announce their sockets.")
    var controlDir: String?

    @Option(help: "A group of workers (`serve --workers N`), as `loopscope list` shows it (e.g. demo-app/4242): `ctl` sends its command to every worker, `dump` writes each worker's snapshot (or, with --merged, the group's).")
    var group: String?

    /// The workers of `group`, in worker order.
    func groupMembers() throws -> [ServerAnnouncement] {
        guard let group else { return [] }
        return try ServerLocator.members(of: group, directory: controlDir ?? SocketDirectory.defaultPath())
    }

    func socketPath() throws -> String {
        try ServerLocator.resolve(server, directory: controlDir ?? SocketDirectory.defaultPath())
    }

    func connect() async throws -> ControlClient {
        try await ControlClient.connect(path: try socketPath())
    }
}
