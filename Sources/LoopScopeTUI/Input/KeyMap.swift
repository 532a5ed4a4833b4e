import LoopScopeWire

/// The dashboard's keys, described once: `table` drives dispatch (`intent`), the `?` help
/// screen (`help`) and the hints line at the bottom of the screen (`hints`). Pure.
public enum KeyMap {
    /// Every key the dashboard knows, one help line each, in the order help and hints show them.
    public static let table: [KeyBinding] = [
        KeyBinding([.init([.up, .character("k")], .up), .init([.down, .character("j")], .down)],
                   help: "move the selection up / down",
                   hints: [Hint([.up, .down], on: [.live, .group])]),
        KeyBinding([.init([.pageUp, .control("b")], .pageUp), .init([.pageDown, .control("f")], .pageDown)],
                   help: "move the selection a page up / down"),
        KeyBinding([.init([.tab], .nextFocus), .init([.backTab], .previousFocus)],
                   help: "next / previous panel: routes, pools, diagnoses",
                   hints: [Hint([.nextFocus], on: [.live, .group])]),
        KeyBinding([.init([.enter, .character("l")], .detail), .init([.escape, .backspace], .back)],
                   help: "route detail (or pool workers) / back",
                   hints: [Hint([.back], "back", on: [.detail, .workers, .stallSites])]),
        KeyBinding([.init([.character("w")], .workers), .init([.character("v")], .nextView)],
                   help: "process workers / group view: all or one worker",
                   hints: [Hint([.nextView], "view", on: [.group])]),
        // Keys 1, 2, … in the order of ExecutionModel.allCases.
        KeyBinding(ExecutionModel.allCases.enumerated().map { .init([.character(Character(String($0 + 1)))], .setModel($1)) },
                   help: "run the route on " + ExecutionModel.allCases.map(\.rawValue).joined(separator: " / "),
                   hints: [Hint(ExecutionModel.allCases.map(Intent.setModel), "model", on: [.live, .detail, .group])]),
        KeyBinding([.init([.character("m")], .cycleModel)],
                   help: "cycle the selected route's model",
                   hints: [Hint([.cycleModel], "cycle", on: [.detail])]),
        KeyBinding([.init([.character("+"), .character("=")], .grow), .init([.character("-"), .character("_")], .shrink)],
                   help: "grow / shrink the selected pool by one",
                   hints: [Hint([.grow, .shrink], "size", on: [.live, .workers, .group])]),
        KeyBinding([.init([.character("n")], .typeSize), .init([.character("L")], .typeLimit)],
                   help: "type a size / a queue limit for the selected pool",
                   hints: [Hint([.typeSize], "size", on: [.workers]), Hint([.typeLimit], "limit", on: [.workers])]),
        KeyBinding([.init([.character("f")], .fix)],
                   help: "apply the selected (or worst) diagnosis's fix",
                   hints: [Hint([.fix], "fix", on: [.live, .detail, .group])]),
        KeyBinding([.init([.character("t")], .stallSites)],
                   help: "stall sites: where stalled executors' threads were",
                   hints: [Hint([.stallSites], "stalls", on: [.live, .group]), Hint([.stallSites], "back", on: [.stallSites])]),
        KeyBinding([.init([.character("s"), .character(">")], .sortNext), .init([.character("S"), .character("r")], .sortInvert)],
                   help: "sort by the next column / invert the order",
                   hints: [Hint([.sortNext], "sort", on: [.live])]),
        KeyBinding([.init([.character("p"), .character(" ")], .pause)],
                   help: "pause / resume the display (replay: play / pause)",
                   hints: [Hint([.pause], "pause", on: [.live, .detail, .workers, .stallSites, .group]), Hint([.pause], "play/pause", on: [.replay])]),
        KeyBinding([.init([.left, .character(",")], .stepBack), .init([.right, .character(".")], .stepForward),
                    .init([.character("[")], .slower), .init([.character("]")], .faster)],
                   help: "replay: step back / forward, slower / faster",
                   hints: [Hint([.stepBack, .stepForward], "step", on: [.replay]), Hint([.slower, .faster], "speed", on: [.replay])]),
        KeyBinding([.init([.character("g"), .home], .top), .init([.character("G"), .end], .bottom)],
                   help: "top / bottom (replay: start / end)",
                   hints: [Hint([.top, .bottom], "start/end", on: [.replay])]),
        KeyBinding([.init([.character("d")], .dump)],
                   help: "dump the current snapshot to a JSON file",
                   hints: [Hint([.dump], "dump", on: [.detail, .stallSites])]),
        KeyBinding([.init([.character("?"), .character("h")], .help), .init([.character("q"), .control("c")], .quit)],
                   help: "this help / quit",
                   hints: [Hint([.help], "help", on: Hint.Context.allCases), Hint([.quit], "quit", on: Hint.Context.allCases)]),
    ]

    /// The intent of a key in the normal (not typing) mode; nil for keys that mean nothing.
    public static func intent(_ key: Key) -> Intent? {
        for binding in table {
            if let press = binding.presses.first(where: { $0.keys.contains(key) }) { return press.intent }
        }
        return nil
    }

    /// The help screen's lines: keys (as `glyphs` can name them) and what they do.
    public static func help(_ glyphs: Glyphs) -> [(keys: String, text: String)] {
        table.map { ($0.keys(glyphs), $0.help) }
    }

    /// The hints line in `context`, at most `width` cells: its hints in table order, two spaces
    /// apart (bare keys one space apart: `↑↓ Tab`), after one space. When they do not fit, hints
    /// shown everywhere (help, quit) stay and the others go, rightmost first.
    public static func hints(_ context: Hint.Context, _ glyphs: Glyphs, width: Int) -> String {
        var items = table.flatMap { binding in
            binding.hints.filter { $0.contexts.contains(context) }.map { (text: binding.text(of: $0, glyphs), bare: $0.words == nil, kept: $0.isEverywhere) }
        }
        func line() -> String {
            zip(items.indices, items).map { i, item in (i == 0 ? " " : items[i - 1].bare && item.bare ? " " : "  ") + item.text }.joined()
        }
        while line().count > width, let last = items.lastIndex(where: { !$0.kept }) { items.remove(at: last) }
        return line()
    }
}
