/// What the dashboard needs of a terminal. The ncurses backend implements it; tests use a buffer.
///
/// Every method is called on the one UI thread.
public protocol TerminalBackend: AnyObject {
    /// Rows and columns now.
    func size() -> (rows: Int, columns: Int)
    /// Draws changed runs and shows them.
    func draw(_ runs: [ScreenBuffer.Run])
    /// Forgets what is on screen so the next draw repaints everything.
    func invalidate()
    /// The next key, waiting at most `timeoutMillis`; nil when none arrived.
    func nextKey(timeoutMillis: Int) -> Key?
    /// Restores the terminal.
    func shutdown()
}
