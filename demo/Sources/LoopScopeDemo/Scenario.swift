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

    /// The scenario files shipped in `demo/scenarios` (for `app`: its subdirectory), by name.
    public static func directory(for app: StoryApp = .loopscope) -> String {
        let base: String
        if let env = ProcessInfo.processInfo.environment["LOOPSCOPE_SCENARIOS"] {
            base = env
        } else {
            // Next to the sources (a checkout), else in the working directory's checkout.
            let candidates = [
                URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("scenarios").path,
                FileManager.default.currentDirectoryPath + "/demo/scenarios",
            ]
            base = candidates.first { FileManager.default.fileExists(atPath: $0) } ?? candidates[1]
        }
        return app.scenarioSubdirectory.map { "\(base)/\($0)" } ?? base
    }

    public static func named(_ name: String, app: StoryApp = .loopscope) throws -> Scenario {
        let dir = directory(for: app)
        let path = name.hasSuffix(".json") ? name : "\(dir)/\(name).json"
        guard FileManager.default.fileExists(atPath: path) else {
            let known = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
            throw LoadError("no scenario '\(name)' for the \(app.rawValue) app; its scenarios: \(known.joined(separator: ", "))")
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

/// The application a story plays against.
public enum StoryApp: String, Codable, Sendable, CaseIterable {
    /// LoopScope's own runtime (`DemoApp.routes`): routes move between execution models.
    case loopscope
    /// The Hummingbird service in `demo/hummingbird` with the agent embedded: fake async in
    /// async handlers, fixed by moving an offload point; a PostgreSQL pool too small.
    case hummingbird

    /// Where its scenarios are, under `demo/scenarios` (nil: there).
    var scenarioSubdirectory: String? { self == .loopscope ? nil : rawValue }

    /// Its story: the scenarios in the order they are told.
    public var story: [String] {
        switch self {
        case .loopscope: return ["fake-async", "blocking-call", "saturation", "mixed", "worker-crash"]
        case .hummingbird: return ["fake-async", "blocking-call", "db-pool"]
        }
    }

    /// The steady load left running after an interactive story, to explore with.
    public var steadyMix: [LoadPlan.Entry] {
        switch self {
        case .loopscope:
            return [.init(path: "/hello", weight: 100), .init(path: "/hash", weight: 40), .init(path: "/fanout", weight: 20),
                    .init(path: "/db", weight: 10), .init(path: "/sleep", weight: 10), .init(path: "/mixed", weight: 20)]
        case .hummingbird:
            return [.init(path: "/hello", weight: 100), .init(path: "/hash?ms=2", weight: 20), .init(path: "/fanout", weight: 20),
                    .init(path: "/reports/7", weight: 20), .init(path: "/invoices/7?ms=4", weight: 20), .init(path: "/legacy?ms=2", weight: 5),
                    .init(path: "/orders/7", weight: 20)]
        }
    }
}

/// Something autopilot (or the user) does to the server.
public struct ScenarioAction: Codable, Sendable, Equatable {
    /// What the action does, as scenario files spell it.
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case route, resize, limit, fix
        case killWorker = "kill-worker"
    }

    public var kind: Kind
    /// For `route`: a request path (`/hash`), or an offload point's name with method `OFFLOAD`.
    public var route: String?
    /// For `route`: the route's method (default GET).
    public var method: String?
    public var model: ExecutionModel?
    /// For `resize`, `limit` and `kill-worker` (default: the first pool that lists its workers).
    public var pool: String?
    public var size: Int?
    public var limit: Int?

    public var summary: String {
        switch kind {
        case .route: return "move \(method == "OFFLOAD" ? "offload point " : "")\(route ?? "?") to \(model?.rawValue ?? "?")"
        case .resize: return "resize \(pool ?? "?") to \(size ?? 0)"
        case .limit: return "set \(pool ?? "?") queue limit to \(limit ?? 0)"
        case .killWorker: return "kill -9 a busy \(pool.map { "\($0) " } ?? "")worker"
        case .fix: return "apply the worst diagnosis's fix"
        }
    }

    /// The control command, for actions that are one.
    public var command: Command? {
        switch kind {
        case .route: return route.flatMap { r in model.map { .route(method: routeMethod, path: r, model: $0) } }
        case .resize: return pool.flatMap { p in size.map { .resize(pool: p, size: $0) } }
        case .limit: return pool.flatMap { p in limit.map { .limit(pool: p, limit: $0) } }
        case .killWorker, .fix: return nil
        }
    }

    private var routeMethod: String { method ?? "GET" }

    /// Whether the server already shows this action's effect (the user did it).
    public func isVisible(in s: Snapshot) -> Bool {
        switch kind {
        case .route: return s.route(serving: route ?? "", method: routeMethod)?.model == model
        case .resize: return s.pool(pool ?? "")?.size == size
        case .limit: return s.pool(pool ?? "")?.queueLimit == limit
        case .killWorker, .fix: return false
        }
    }
}
