import CursesShim
import LoopScopeTUI
#if canImport(Glibc)
import Glibc
#endif

/// The ncurses terminal: size, draw runs, read keys, restore. Used from one UI thread only.
public final class CursesBackend: TerminalBackend {
    /// Why a terminal cannot be used; checked before the screen is touched.
    public static func unusableReason(environment: [String: String]) -> String? {
        if isatty(0) == 0 || isatty(1) == 0 { return "loopscope attach needs an interactive terminal (stdin and stdout are not a TTY); use `loopscope dump` for scripts" }
        let term = environment["TERM"] ?? ""
        if term.isEmpty || term == "dumb" { return "TERM is '\(term)': the dashboard needs a terminal with cursor addressing; use `loopscope dump --format table` instead" }
        return nil
    }

    public let hasColors: Bool

    /// Starts the screen. Throws a message when ncurses cannot start.
    public init(color: Bool) throws {
        guard ls_curses_start(color ? 1 : 0) == 0 else { throw CursesError("cannot initialise the terminal (TERM unknown to terminfo?)") }
        hasColors = ls_curses_has_colors() != 0
        ls_curses_install_crash_handlers()
    }

    public func size() -> (rows: Int, columns: Int) {
        var r: Int32 = 0, c: Int32 = 0
        ls_curses_size(&r, &c)
        return (Int(r), Int(c))
    }

    public func draw(_ runs: [ScreenBuffer.Run]) {
        for run in runs {
            ls_curses_draw(Int32(run.row), Int32(run.column), run.text, run.style.code)
        }
        ls_curses_refresh()
    }

    public func invalidate() { ls_curses_clear() }

    public func nextKey(timeoutMillis: Int) -> Key? {
        var code: Int32 = 0
        switch ls_curses_key(Int32(timeoutMillis), &code) {
        case 1: return Self.character(code)
        case 2: return Self.function(code)
        default: return nil
        }
    }

    public func shutdown() { ls_curses_stop() }

    /// Whether the terminal is gone (its window closed, the session killed): the dashboard must exit.
    public var terminalGone: Bool { ls_terminal_gone() != 0 }

    static func character(_ code: Int32) -> Key? {
        switch code {
        case 3: return .control("c")
        case 9: return .tab
        case 10, 13: return .enter
        case 27: return .escape
        case 8, 127: return .backspace
        case 1...26: return .control(Character(UnicodeScalar(UInt8(code + 96))))
        default:
            guard let scalar = UnicodeScalar(UInt32(bitPattern: code)) else { return nil }
            return .character(Character(scalar))
        }
    }

    static func function(_ code: Int32) -> Key? {
        switch code {
        case ls_key_up(): return .up
        case ls_key_down(): return .down
        case ls_key_left(): return .left
        case ls_key_right(): return .right
        case ls_key_resize(): return .resize
        case ls_key_home(): return .home
        case ls_key_end(): return .end
        case ls_key_npage(): return .pageDown
        case ls_key_ppage(): return .pageUp
        case ls_key_backspace(): return .backspace
        case ls_key_enter(): return .enter
        case ls_key_btab(): return .backTab
        default: return nil
        }
    }
}

/// The ncurses module's error.
public struct CursesError: Error, CustomStringConvertible {
    public let description: String
    init(_ d: String) { description = d }
}
