/// A decoded key press.
public enum Key: Equatable, Sendable {
    case character(Character)
    case up, down, left, right, pageUp, pageDown, home, end
    case enter, escape, tab, backTab, backspace
    /// Ctrl plus a letter, lowercase.
    case control(Character)
    /// The terminal was resized.
    case resize
}
