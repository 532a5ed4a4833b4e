import Testing
import LoopScopeTUI
import LoopScopeWire

@Suite struct KeyMapTests {
    /// Every intent. Adding an `Intent` case breaks the switch below until it is listed here too.
    static let intents: [Intent] = {
        let all: [Intent] = [.up, .down, .pageUp, .pageDown, .top, .bottom, .nextFocus, .previousFocus, .sortNext, .sortInvert, .cycleModel,
                             .grow, .shrink, .typeSize, .typeLimit, .fix, .pause, .dump, .help, .detail, .workers, .stallSites, .nextView, .back, .quit,
                             .stepBack, .stepForward, .slower, .faster] + ExecutionModel.allCases.map(Intent.setModel)
        for intent in all {
            switch intent {
            case .up, .down, .pageUp, .pageDown, .top, .bottom, .nextFocus, .previousFocus, .sortNext, .sortInvert, .setModel, .cycleModel,
                 .grow, .shrink, .typeSize, .typeLimit, .fix, .pause, .dump, .help, .detail, .workers, .stallSites, .nextView, .back, .quit,
                 .stepBack, .stepForward, .slower, .faster: break
            }
        }
        return all
    }()

    static let presses = KeyMap.table.flatMap(\.presses)

    /// A dashboard showing the hints of `context`.
    static func state(_ context: Hint.Context) -> DashboardState {
        var s = Fixtures.live()
        switch context {
        case .live: break
        case .replay: s = DashboardState(replaying: [Fixtures.snapshot()], name: "run.ndjson")
        case .detail: _ = s.handle(.enter, now: 1)
        case .workers: _ = s.handle(.character("w"), now: 1)
        case .stallSites: _ = s.handle(.character("t"), now: 1)
        case .group: s = Fixtures.group()
        }
        return s
    }

    @Test func everyIntentHasAKeyAndNoKeyTwoIntents() {
        for intent in Self.intents {
            #expect(Self.presses.contains { $0.intent == intent && !$0.keys.isEmpty }, "\(intent) has a key")
        }
        let keys = Self.presses.flatMap(\.keys)
        #expect(Set(keys.map { "\($0)" }).count == keys.count, "a key is bound once")
        for press in Self.presses {
            for key in press.keys { #expect(KeyMap.intent(key) == press.intent) }
        }
    }

    @Test func theHelpScreenNamesEveryKeyAndWhatItDoesAt80x24() {
        var s = Fixtures.live()
        _ = s.handle(.character("?"), now: 1)
        for glyphs in [Glyphs.unicode, .ascii] {
            let lines = DashboardView(glyphs: glyphs).render(s, rows: 24, columns: 80).lines
            for binding in KeyMap.table {
                let keys = binding.keys(glyphs)
                #expect(lines.contains { $0.contains("│ " + keys) || $0.contains("| " + keys) } && lines.contains { $0.contains(binding.help + " ") },
                        "\(glyphs) help shows \(keys)  \(binding.help)")
            }
        }
        for press in Self.presses {
            #expect(press.keys.allSatisfy { $0.name(.unicode) != nil }, "\(press.intent): every key is named")
            #expect(press.keys.contains { $0.name(.ascii) != nil }, "\(press.intent): a key an ASCII terminal can name")
        }
    }

    @Test func everyHintShowsOnItsScreensHintsLine() {
        for context in Hint.Context.allCases {
            let s = Self.state(context)
            #expect(s.hintContext == context)
            for glyphs in [Glyphs.unicode, .ascii] {
                for columns in [80, DashboardView.minimumColumns] {
                    let line = DashboardView(glyphs: glyphs).render(s, rows: 24, columns: columns).lines[23]
                    #expect(line == KeyMap.hints(context, glyphs, width: columns))
                    for binding in KeyMap.table {
                        for hint in binding.hints where hint.contexts.contains(context) && (columns == 80 || hint.isEverywhere) {
                            #expect(line.contains(binding.text(of: hint, glyphs)), "\(context) \(glyphs) \(columns): \(line)")
                        }
                    }
                }
            }
        }
    }

    @Test func hintsLinesReadAsBefore() {
        #expect(KeyMap.hints(.live, .unicode, width: 80) == " ↑↓ Tab  1-4 model  +/- size  f fix  t stalls  s sort  p pause  ? help  q quit")
        #expect(KeyMap.hints(.live, .ascii, width: 80) == " k/j Tab  1-4 model  +/- size  f fix  t stalls  s sort  p pause  ? help  q quit")
        #expect(KeyMap.hints(.detail, .unicode, width: 80) == " Esc back  1-4 model  m cycle  f fix  p pause  d dump  ? help  q quit")
        #expect(KeyMap.hints(.workers, .unicode, width: 80) == " Esc back  +/- size  n size  L limit  p pause  ? help  q quit")
        #expect(KeyMap.hints(.stallSites, .unicode, width: 80) == " Esc back  t back  p pause  d dump  ? help  q quit")
        #expect(KeyMap.hints(.group, .unicode, width: 80) == " ↑↓ Tab  v view  1-4 model  +/- size  f fix  t stalls  p pause  ? help  q quit")
        #expect(KeyMap.hints(.replay, .ascii, width: 80) == " p play/pause  ,/. step  [/] speed  g/G start/end  ? help  q quit")
        // Too narrow: what every screen shows stays, the rest goes from the right.
        #expect(KeyMap.hints(.live, .unicode, width: 44) == " ↑↓ Tab  1-4 model  +/- size  ? help  q quit")
    }
}
