/// Characters for charts and marks: Unicode when the terminal speaks UTF-8, ASCII otherwise.
public struct Glyphs: Sendable, Equatable {
    /// Eight heights, lowest first.
    public let bars: [Character]
    public let live: Character
    public let marker: Character
    public let full: Character
    public let light: Character
    public let up: Character
    public let down: Character

    public static let unicode = Glyphs(bars: Array("▁▂▃▄▅▆▇█"), live: "●", marker: "│", full: "█", light: "░", up: "▲", down: "▼")
    public static let ascii = Glyphs(bars: Array("_.-=+*#@"), live: "*", marker: "|", full: "#", light: ".", up: "^", down: "v")
}
