import ArgumentParser
import LoopScopeClient
import LoopScopeWire

/// How a client command picks its server: positional or `--server` pid, name or socket path.
struct TargetOptions: ParsableArguments {
    @Option(name: [.short, .long], help: "Server to talk to: pid, name or socket path (default: the only running server).")
    var server: String?

    @Option(help: "Directory where servers announce their sockets.")
    var controlDir: String?

    @Option(help: "A group of workers (`serve --workers N`), as `loopscope list` shows it (e.g. demo-app/4242): `ctl` sends its command to every worker.")
    var group: String?

    /// The workers of `group`, in worker order.
    func groupMembers() throws -> [ServerAnnouncement] {
        guard let group else { return [] }
        let directory = controlDir ?? SocketDirectory.defaultPath()
        let members = SocketDirectory.list(directory).filter { $0.member?.group == group }.sorted { ($0.member?.worker ?? 0) < ($1.member?.worker ?? 0) }
        guard !members.isEmpty else {
            let groups = Set(SocketDirectory.list(directory).compactMap { $0.member?.group }).sorted()
            throw CLIError("no running workers of group '\(group)' in \(directory)" + (groups.isEmpty ? "" : "; groups: \(groups.joined(separator: ", "))"))
        }
        return members
    }

    func socketPath() throws -> String {
        try ServerLocator.resolve(server, directory: controlDir ?? SocketDirectory.defaultPath())
    }

    func connect() async throws -> ControlClient {
        try await ControlClient.connect(path: try socketPath())
    }
}
