import LoopScopeRuntime

/// The runtime's signal wait, for client commands that stop on Ctrl-C.
enum SignalWaiterBridge {
    static func wait() async { await SignalWaiter.wait() }
}
