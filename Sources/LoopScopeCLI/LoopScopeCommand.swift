import ArgumentParser

/// The `loopscope` command: configuration only; each subcommand lives in its own file.
struct LoopScopeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loopscope",
        abstract: "top for a Swift server's concurrency: an instrumented runtime and a live dashboard.",
        discussion: """
            Start the demo server with `loopscope serve`, then attach with `loopscope attach` in another terminal.
            `loopscope demo` runs the whole story in one command.
            """,
        subcommands: [
            ServeCommand.self, AttachCommand.self, DemoCommand.self, DumpCommand.self, RecordCommand.self,
            CtlCommand.self, LogCommand.self, LoadCommand.self, ListCommand.self, UpstreamCommand.self,
        ]
    )
}
