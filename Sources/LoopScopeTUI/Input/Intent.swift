import LoopScopeWire

/// What a key asks the dashboard to do (`KeyMap.table` says which keys ask for which);
/// `DashboardState.handle` decides what it means in the current state.
public enum Intent: Equatable, Sendable {
    case up, down, pageUp, pageDown, top, bottom
    case nextFocus, previousFocus
    case sortNext, sortInvert
    case setModel(ExecutionModel)
    case cycleModel
    case grow, shrink, typeSize, typeLimit
    case fix
    case pause
    case dump
    case help
    case detail
    case workers
    case stallSites
    /// A group: the whole group, then each worker in turn.
    case nextView
    case back
    case quit
    case stepBack, stepForward, slower, faster
}
