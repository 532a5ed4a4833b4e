import LoopScopeWire

/// What a key asks the dashboard to do. Pure mapping; vim and arrow keys both work.
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
    case back
    case quit
    case stepBack, stepForward, slower, faster
}

public enum KeyMap {
    /// The intent of a key in the normal (not typing) mode; nil for keys that mean nothing.
    public static func intent(_ key: Key) -> Intent? {
        switch key {
        case .up, .character("k"): return .up
        case .down, .character("j"): return .down
        case .pageUp, .control("b"): return .pageUp
        case .pageDown, .control("f"): return .pageDown
        case .home, .character("g"): return .top
        case .end, .character("G"): return .bottom
        case .tab: return .nextFocus
        case .backTab: return .previousFocus
        case .character("s"), .character(">"): return .sortNext
        case .character("S"), .character("r"): return .sortInvert
        case .character("1"): return .setModel(.loop)
        case .character("2"): return .setModel(.task)
        case .character("3"): return .setModel(.threads)
        case .character("4"): return .setModel(.processes)
        case .character("m"): return .cycleModel
        case .character("+"), .character("="): return .grow
        case .character("-"), .character("_"): return .shrink
        case .character("n"): return .typeSize
        case .character("L"): return .typeLimit
        case .character("f"): return .fix
        case .character("p"), .character(" "): return .pause
        case .character("d"): return .dump
        case .character("?"), .character("h"): return .help
        case .enter, .character("l"): return .detail
        case .character("w"): return .workers
        case .character("t"): return .stallSites
        case .escape, .backspace: return .back
        case .character("q"), .control("c"): return .quit
        case .left, .character(","): return .stepBack
        case .right, .character("."): return .stepForward
        case .character("["): return .slower
        case .character("]"): return .faster
        default: return nil
        }
    }

    /// Help lines: keys and what they do, for the `?` overlay.
    public static let help: [(String, String)] = [
        ("↑↓ j k", "move the selection"),
        ("Tab", "switch between routes, pools and diagnoses"),
        ("s / S", "sort by the next column / invert the order"),
        ("1 2 3 4", "run the selected route on loop / task / threads / processes"),
        ("m", "cycle the selected route's model"),
        ("+ -", "grow / shrink the selected pool by one"),
        ("n / L", "type a size / a queue limit for the selected pool"),
        ("f", "apply the selected (or worst) diagnosis's fix"),
        ("Enter / Esc", "route detail (or pool workers) / back"),
        ("w", "process workers"),
        ("t", "stall sites: where stalled loops and pool threads were"),
        ("p Space", "pause / resume the display"),
        ("d", "dump the current snapshot to a JSON file"),
        ("← → [ ]", "replay: step back / forward, slower / faster"),
        ("g G", "top / bottom (replay: start / end)"),
        ("q Ctrl-C", "quit"),
    ]
}
