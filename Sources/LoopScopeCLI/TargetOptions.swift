import ArgumentParser
import LoopScopeClient
import LoopScopeWire

/// How a client command picks its server: positional or `--server` pid, name or socket path.
struct TargetOptions: ParsableArguments {
    @Option(name: [.short, .long], help: "Server to talk to: pid, name or socket path (default: the only running server).")
    var server: String?

    @Option(help: "Directory where servers announce their sockets.")
    var controlDir: String?

    func socketPath() throws -> String {
        try ServerLocator.resolve(server, directory: controlDir ?? SocketDirectory.defaultPath())
    }

    func connect() async throws -> ControlClient {
        try await ControlClient.connect(path: try socketPath())
    }
}
