/// A mention of some of a binding's intents in the hints line: `+/- size`, or bare keys (`Tab`).
public struct Hint: Sendable {
    /// Where the hints line is drawn: each screen, the main screen while replaying, and the
    /// main screen of a group.
    public enum Context: CaseIterable, Sendable {
        case live, replay, detail, workers, stallSites, group
    }

    public let intents: [Intent]
    /// Said after the keys; nil shows the keys alone.
    public let words: String?
    public let contexts: [Context]

    public init(_ intents: [Intent], _ words: String? = nil, on contexts: [Context]) {
        self.intents = intents
        self.words = words
        self.contexts = contexts
    }

    /// Shown in every context: kept when the hints line is too narrow for the rest.
    public var isEverywhere: Bool { Context.allCases.allSatisfy(contexts.contains) }
}
