import LoopScopeWire

/// Colour rules for figures: one place decides what is good, worrying or bad. Pure.
public enum Theme {
    /// Lag thresholds, microseconds.
    public static let lagWarnMicros: UInt64 = 2_000
    public static let lagBadMicros: UInt64 = 10_000

    public static func lag(_ micros: UInt64) -> Style {
        micros >= lagBadMicros ? .bad : micros >= lagWarnMicros ? .warn : .good
    }

    public static func severity(_ s: Diagnosis.Severity) -> Style {
        switch s {
        case .critical: return .bad
        case .warning: return .warn
        case .info: return Style(.cyan)
        }
    }

    /// A group's worker on the workers line; the one on screen reversed.
    public static func worker(_ h: GroupState.Health, viewed: Bool) -> Style {
        h.isUp ? Style(.green, bold: viewed, reverse: viewed) : Style(.red, bold: true, reverse: viewed)
    }

    public static func workClass(_ c: WorkClass) -> Style {
        switch c {
        case .cpu: return Style(.magenta)
        case .blocking: return .warn
        case .io: return .good
        case .unknown: return .muted
        }
    }

    public static func model(_ m: ExecutionModel) -> Style {
        switch m {
        case .loop: return Style(.yellow)
        case .task: return Style(.blue, bold: true)
        case .threads: return Style(.green, bold: true)
        case .processes: return Style(.cyan, bold: true)
        }
    }
}
