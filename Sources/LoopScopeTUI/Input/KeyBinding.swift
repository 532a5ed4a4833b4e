/// One line of the key table: keys and the intents they ask for, what the `?` help says of
/// them, and where the hints line at the bottom of the screen names them.
public struct KeyBinding: Sendable {
    /// Keys that ask for one intent, in the order help names them.
    public struct Press: Sendable {
        public let keys: [Key]
        public let intent: Intent

        public init(_ keys: [Key], _ intent: Intent) {
            self.keys = keys
            self.intent = intent
        }
    }

    public let presses: [Press]
    /// What the keys do, in the order of `presses` (`grow / shrink the selected pool by one`).
    public let help: String
    public let hints: [Hint]

    public init(_ presses: [Press], help: String, hints: [Hint] = []) {
        self.presses = presses
        self.help = help
        self.hints = hints
    }

    /// The help screen's key column: each press's keys that `glyphs` can name, presses
    /// separated by ` / ` (`+ = / - _`).
    public func keys(_ glyphs: Glyphs) -> String {
        presses.map { $0.keys.compactMap { $0.name(glyphs) }.joined(separator: " ") }.joined(separator: " / ")
    }

    /// A hint as the hints line shows it: for each of its intents the first key `glyphs` can
    /// name, joined by `/` (`+/-`, `k/j`; arrows run together, `↑↓`; three or more as a
    /// range, `1-4`), then its words.
    public func text(of hint: Hint, _ glyphs: Glyphs) -> String {
        let names = hint.intents.compactMap { intent in
            presses.first { $0.intent == intent }?.keys.lazy.compactMap { $0.name(glyphs) }.first
        }
        let arrows = names.allSatisfy { $0.count == 1 && !$0.allSatisfy(\.isASCII) }
        let keys = names.count > 2 ? "\(names[0])-\(names[names.count - 1])" : names.joined(separator: arrows ? "" : "/")
        return hint.words.map { "\(keys) \($0)" } ?? keys
    }
}
