/// An in-memory grid of styled cells: widgets draw here; the terminal backend only copies it out.
public struct ScreenBuffer: Equatable, Sendable {
    public struct Cell: Equatable, Sendable {
        public var character: Character
        public var style: Style
    }

    public let rows: Int
    public let columns: Int
    private(set) var cells: [Cell]

    public init(rows: Int, columns: Int) {
        self.rows = max(rows, 0)
        self.columns = max(columns, 0)
        cells = Array(repeating: Cell(character: " ", style: .plain), count: self.rows * self.columns)
    }

    public subscript(row: Int, column: Int) -> Cell {
        cells[row * columns + column]
    }

    /// Writes `text` from (row, column), clipped to the row and to `width` cells when given.
    /// Returns the column after the last cell written.
    @discardableResult
    public mutating func write(_ row: Int, _ column: Int, _ text: String, _ style: Style = .plain, width: Int? = nil) -> Int {
        guard row >= 0, row < rows else { return column }
        let limit = min(columns, width.map { column + $0 } ?? columns)
        var c = column
        for ch in text {
            if c >= limit { break }
            if c >= 0 { cells[row * columns + c] = Cell(character: ch, style: style) }
            c += 1
        }
        return c
    }

    /// Fills a row segment with one style (and spaces), e.g. a selection bar.
    public mutating func fill(_ row: Int, from: Int = 0, to: Int? = nil, _ style: Style) {
        guard row >= 0, row < rows else { return }
        for c in max(from, 0)..<min(to ?? columns, columns) { cells[row * columns + c] = Cell(character: " ", style: style) }
    }

    /// Restyles a row segment, keeping its characters.
    public mutating func restyle(_ row: Int, from: Int = 0, to: Int? = nil, _ style: Style) {
        guard row >= 0, row < rows else { return }
        for c in max(from, 0)..<min(to ?? columns, columns) { cells[row * columns + c].style = style }
    }

    /// The text of every row, trailing spaces removed: what tests compare.
    public var lines: [String] {
        (0..<rows).map { r in
            var s = String(cells[(r * columns)..<((r + 1) * columns)].map(\.character))
            while s.last == " " { s.removeLast() }
            return s
        }
    }

    /// Replaces every non-ASCII character with its stand-in in `Glyphs.asciiStandIn` (for
    /// terminals without UTF-8).
    public mutating func asciify() {
        for i in cells.indices where !(cells[i].character.isASCII) {
            cells[i].character = Glyphs.asciiStandIn[cells[i].character] ?? "?"
        }
    }

    /// A run of cells that changed, with one style: what the backend draws.
    public struct Run: Equatable, Sendable {
        public var row: Int
        public var column: Int
        public var text: String
        public var style: Style
    }

    /// The runs that differ from `previous` (everything when sizes differ or there is none).
    public func changes(from previous: ScreenBuffer?) -> [Run] {
        let full = previous == nil || previous!.rows != rows || previous!.columns != columns
        var runs: [Run] = []
        for r in 0..<rows {
            var c = 0
            while c < columns {
                let i = r * columns + c
                if !full, previous!.cells[i] == cells[i] { c += 1; continue }
                let style = cells[i].style
                var text = ""
                var end = c
                while end < columns {
                    let j = r * columns + end
                    if cells[j].style != style { break }
                    if !full, previous!.cells[j] == cells[j] { break }
                    text.append(cells[j].character)
                    end += 1
                }
                runs.append(Run(row: r, column: c, text: text, style: style))
                c = end
            }
        }
        return runs
    }
}
