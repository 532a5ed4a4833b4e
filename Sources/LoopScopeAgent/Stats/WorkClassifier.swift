import LoopScopeWire

/// Classifies a route's work from its mean figures. Pure.
public enum WorkClassifier {
    /// Compute stages shorter than this hold no thread to speak of; such routes count as `io`.
    public static let negligibleComputeMicros = 200.0
    /// CPU time at or above this fraction of wall time counts as CPU-bound.
    public static let cpuFraction = 0.5

    /// - Parameters:
    ///   - compute: mean wall and CPU time of the compute stage.
    ///   - ioMicros: mean time awaiting I/O stages per request.
    public static func classify(compute: ComputeFigures, ioMicros: Double) -> WorkClass {
        // No compute stage ran (a handler that always awaited): its time is I/O.
        guard compute.samples > 0 else { return ioMicros > 0 ? .io : .unknown }
        if compute.wallMicros < negligibleComputeMicros || ioMicros >= compute.wallMicros { return .io }
        if compute.cpuMicros >= cpuFraction * compute.wallMicros { return .cpu }
        return .blocking
    }
}
