import Foundation
import LoopScopeWire

/// A demo scenario: phases of load, actions and expectations, read from `demo/scenarios/*.json`.
public struct Scenario: Codable, Sendable, Equatable {
    public var name: String
    public var title: String
    /// What the scenario shows, in a sentence or two.
    public var story: String
    public var phases: [Phase]

    public struct Phase: Codable, Sendable, Equatable {
        public var name: String
        public var seconds: Double
        /// Requests per second by path (open loop).
        public var load: [String: Double]
        /// Paths whose rate is set for a share of a core instead (0.6: busy 60 % of the time),
        /// from their cost measured live in the running server under the rest of the load
        /// (`ScenarioRunner`'s calibration, once per scenario; every phase then uses that rate).
        public var utilisation: [String: Double]? = nil
        /// What to look at on the dashboard.
        public var say: String
        /// What the user can do now (interactive mode); autopilot does `actions` otherwise.
        public var hint: String?
        /// Done at the start of the phase (by autopilot, or by the user in interactive mode).
        public var actions: [ScenarioAction]
        public var expect: [Expectation]
    }

    /// Reads and checks a scenario file.
    public static func load(path: String) throws -> Scenario {
        guard let data = FileManager.default.contents(atPath: path) else { throw LoadError("cannot read scenario \(path)") }
        let s: Scenario
        do {
            s = try JSONDecoder().decode(Scenario.self, from: data)
        } catch {
            throw LoadError("\(path) is not a valid scenario: \(error)")
        }
        guard !s.phases.isEmpty else { throw LoadError("\(path) has no phases") }
        for p in s.phases {
            guard p.seconds > 0, p.seconds <= 600 else { throw LoadError("phase \(p.name): seconds must be in (0, 600]") }
            for (path, rate) in p.load where !path.hasPrefix("/") || rate <= 0 {
                throw LoadError("phase \(p.name): load '\(path)': \(rate) is not a path with a positive rate")
            }
            for (path, share) in p.utilisation ?? [:] where !path.hasPrefix("/") || !(share > 0 && share < 1) || p.load[path] != nil {
                throw LoadError("phase \(p.name): utilisation '\(path)': \(share) is not a path (absent from load) with a share in (0, 1)")
            }
        }
        return s
    }

    /// The scenario files shipped in `demo/scenarios`, by name.
    public static func directory() -> String {
        if let env = ProcessInfo.processInfo.environment["LOOPSCOPE_SCENARIOS"] { return env }
        // Next to the sources (a checkout), else next to the executable.
        let candidates = [
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("scenarios").path,
            FileManager.default.currentDirectoryPath + "/demo/scenarios",
        ]
        return candidates.first { FileManager.default.fileExists(atPath: $0) } ?? candidates[1]
    }

    public static func named(_ name: String) throws -> Scenario {
        let dir = directory()
        let path = name.hasSuffix(".json") ? name : "\(dir)/\(name).json"
        guard FileManager.default.fileExists(atPath: path) else {
            let known = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
            throw LoadError("no scenario '\(name)'; scenarios: \(known.joined(separator: ", "))")
        }
        return try load(path: path)
    }

    /// The same scenario with every phase shortened by `factor` (for CI).
    public func scaled(_ factor: Double) -> Scenario {
        var s = self
        for i in s.phases.indices { s.phases[i].seconds = max(2, s.phases[i].seconds * factor) }
        return s
    }
}

/// Something autopilot (or the user) does to the server.
public struct ScenarioAction: Codable, Sendable, Equatable {
    /// `route`, `resize`, `limit`, `kill-worker` or `fix`.
    public var kind: String
    public var route: String?
    public var model: ExecutionModel?
    public var pool: String?
    public var size: Int?
    public var limit: Int?

    public var summary: String {
        switch kind {
        case "route": return "move \(route ?? "?") to \(model?.rawValue ?? "?")"
        case "resize": return "resize \(pool ?? "?") to \(size ?? 0)"
        case "limit": return "set \(pool ?? "?") queue limit to \(limit ?? 0)"
        case "kill-worker": return "kill -9 a busy \(pool ?? "processes") worker"
        case "fix": return "apply the worst diagnosis's fix"
        default: return kind
        }
    }

    /// The control command, for actions that are one.
    public var command: Command? {
        switch kind {
        case "route": return route.flatMap { r in model.map { .route(method: "GET", path: r, model: $0) } }
        case "resize": return pool.flatMap { p in size.map { .resize(pool: p, size: $0) } }
        case "limit": return pool.flatMap { p in limit.map { .limit(pool: p, limit: $0) } }
        default: return nil
        }
    }

    /// Whether the server already shows this action's effect (the user did it).
    public func isVisible(in s: Snapshot) -> Bool {
        switch kind {
        case "route": return s.route(route ?? "")?.model == model
        case "resize": return s.pool(pool ?? "")?.size == size
        case "limit": return s.pool(pool ?? "")?.queueLimit == limit
        default: return false
        }
    }
}
