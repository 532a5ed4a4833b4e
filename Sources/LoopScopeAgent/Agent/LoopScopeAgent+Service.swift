import ServiceLifecycle

/// The agent in a `ServiceGroup`, as Hummingbird apps run their services: `run()` returns when
/// the group shuts down gracefully (or the task is cancelled), after stopping the agent.
extension LoopScopeAgent: Service {
    public func run() async throws {
        try? await gracefulShutdown()
        await stop()
    }
}
