/// What the terminal can draw: Unicode when it speaks UTF-8, ASCII otherwise.
///
/// Views always draw Unicode. On an ASCII terminal the finished screen is translated once, cell
/// for cell, through `asciiStandIn` (`ScreenBuffer.asciify()`): the one place a glyph's ASCII
/// fallback is written. Keys are named apart (`Key.name(_:)`): a key an ASCII terminal cannot
/// name, an arrow, is left out where its binding has another key.
public enum Glyphs: Sendable, Equatable {
    case unicode
    case ascii

    /// Whether `text` is drawn as it is, without stand-ins.
    public func draws(_ text: String) -> Bool { self == .unicode || text.allSatisfy(\.isASCII) }

    /// The ASCII character drawn in place of each Unicode one the views use; any other
    /// non-ASCII character is drawn as `?`. Sparkline levels (`▁`…`█`) stay distinct.
    static let asciiStandIn: [Character: Character] = [
        "…": "~", "—": "-", "→": ">", "←": "<", "↑": "^", "↓": "v", "×": "x", "≤": "<", "❚": "|", "●": "*",
        "✖": "x", "▲": "^", "▼": "v", "│": "|", "─": "-", "┌": "+", "┐": "+", "└": "+", "┘": "+", "µ": "u",
        "░": ".", "▒": "=", "▓": "~", "█": "#", "▚": ":", "▁": "_", "▂": ".", "▃": "-", "▄": "=", "▅": "+", "▆": "*", "▇": "%",
    ]
}
