import Foundation

/// When to restart a worker that exited, and when to give up: each worker's unexpected exits
/// over the last `window` seconds decide a backoff that doubles from `firstBackoff` up to
/// `maxBackoff`; more than `maxExits` of them is a crash loop. Pure.
public struct RestartPolicy: Sendable {
    public enum Decision: Equatable, Sendable {
        case restart(afterSeconds: Double)
        case giveUp(String)
    }

    public var window = 60.0
    public var maxExits = 5
    public var firstBackoff = 0.1
    public var maxBackoff = 5.0
    private var exits: [Int: [Double]] = [:]

    public init() {}

    public mutating func exited(worker: Int, at now: Double) -> Decision {
        var recent = (exits[worker] ?? []).filter { now - $0 < window }
        recent.append(now)
        exits[worker] = recent
        if recent.count > maxExits {
            return .giveUp("worker \(worker) exited \(recent.count) times in \(Int(window)) s: a crash loop")
        }
        return .restart(afterSeconds: min(maxBackoff, firstBackoff * pow(2, Double(recent.count - 1))))
    }
}
