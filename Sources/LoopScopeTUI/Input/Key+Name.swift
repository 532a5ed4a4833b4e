extension Key {
    /// How the help screen and the hints line name the key; nil when `glyphs` cannot draw its
    /// name (an arrow on an ASCII terminal: the help and hints name its binding's letter key).
    public func name(_ glyphs: Glyphs) -> String? {
        let name: String
        switch self {
        case .character(" "): name = "Space"
        case .character(let c): name = String(c)
        case .up: name = "↑"
        case .down: name = "↓"
        case .left: name = "←"
        case .right: name = "→"
        case .pageUp: name = "PgUp"
        case .pageDown: name = "PgDn"
        case .home: name = "Home"
        case .end: name = "End"
        case .enter: name = "Enter"
        case .escape: name = "Esc"
        case .tab: name = "Tab"
        case .backTab: name = "S-Tab"
        case .backspace: name = "Bksp"
        case .control(let c): name = "^" + c.uppercased()
        case .resize: return nil
        }
        return glyphs.draws(name) ? name : nil
    }
}
