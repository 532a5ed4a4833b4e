/// How a cell is drawn. The backend maps colours to terminal colour pairs, or ignores them in monochrome.
public struct Style: Hashable, Sendable {
    public enum Color: UInt8, Sendable {
        case normal = 0, green = 1, yellow = 2, red = 3, cyan = 4, highlight = 5, alert = 6, blue = 7, magenta = 8
    }

    public var color: Color
    public var bold: Bool
    public var reverse: Bool
    public var dim: Bool

    public init(_ color: Color = .normal, bold: Bool = false, reverse: Bool = false, dim: Bool = false) {
        self.color = color
        self.bold = bold
        self.reverse = reverse
        self.dim = dim
    }

    public static let plain = Style()
    public static let heading = Style(.cyan, bold: true)
    public static let selected = Style(reverse: true)
    public static let good = Style(.green)
    public static let warn = Style(.yellow, bold: true)
    public static let bad = Style(.red, bold: true)
    public static let muted = Style(dim: true)

    /// The backend's style code: bits 0-3 colour, 4 bold, 5 reverse, 6 dim.
    public var code: Int32 {
        Int32(color.rawValue) | (bold ? 16 : 0) | (reverse ? 32 : 0) | (dim ? 64 : 0)
    }
}
