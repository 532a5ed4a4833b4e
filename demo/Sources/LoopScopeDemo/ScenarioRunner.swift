#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NIOCore
import LoopScopeClient
import LoopScopeWire

/// Plays a scenario against a running server: load per phase, actions through the control
/// socket, expectations checked against the load report and the server's figures.
public final class ScenarioRunner: Sendable {
    /// Reports progress; called from the runner's task.
    public struct Observer: Sendable {
        public var phaseStarted: @Sendable (_ index: Int, _ phase: Scenario.Phase) -> Void = { _, _ in }
        public var message: @Sendable (String) -> Void = { _ in }
        public var phaseFinished: @Sendable (_ index: Int, _ result: Expectation.PhaseResult, _ verdicts: [Expectation.Verdict]) -> Void = { _, _, _ in }
        public init() {}
    }

    public let scenario: Scenario
    private let client: ControlClient
    private let port: Int
    private let group: any EventLoopGroup
    /// Seconds the user has to act before autopilot does (nil: autopilot at once).
    private let userGraceSeconds: Double?
    /// Play the phases without their actions (the fixes): the expectations that depend on
    /// them must fail.
    private let withholdActions: Bool

    public init(scenario: Scenario, client: ControlClient, port: Int, group: any EventLoopGroup, userGraceSeconds: Double? = nil,
                withholdActions: Bool = false) {
        self.scenario = scenario
        self.client = client
        self.port = port
        self.group = group
        self.userGraceSeconds = userGraceSeconds
        self.withholdActions = withholdActions
    }

    /// The calibration of `utilisation` paths: this long, at this rate.
    static let calibrationSeconds = 3.0
    static let calibrationRate = 20.0
    static let calibratedRates: ClosedRange<Double> = 5...2000

    private func generator(_ rates: [String: Double], seconds: Double) -> LoadGenerator {
        var plan = LoadPlan(port: port, mix: rates.sorted { $0.key < $1.key }.map { LoadPlan.Entry(path: $0.key, weight: max(1, Int($0.value.rounded()))) },
                            mode: .open(rate: rates.values.reduce(0, +)), connections: 32, durationSeconds: seconds, poisson: true)
        plan.perSecond = true
        return LoadGenerator(plan: plan, group: group)
    }

    /// The rate of each `utilisation` path of `phase` that keeps its executor busy that share
    /// of the time, from what its work costs here and now: a few seconds of the phase's other
    /// load with the path at a light rate, then the server's mean compute time of its requests.
    private func calibrate(_ phase: Scenario.Phase, observer: Observer) async throws -> [String: Double] {
        guard let shares = phase.utilisation, !shares.isEmpty else { return [:] }
        var rates = phase.load
        for path in shares.keys { rates[path] = Self.calibrationRate }
        _ = try await generator(rates, seconds: Self.calibrationSeconds).run()
        let snapshot = try await client.snapshot()
        var calibrated: [String: Double] = [:]
        for (path, share) in shares.sorted(by: { $0.key < $1.key }) {
            guard let cost = snapshot.route(serving: path)?.compute.wallMicros, cost > 0 else {
                throw LoadError("calibration: no compute time measured for \(path)")
            }
            let rate = min(max(share * 1_000_000 / Double(cost), Self.calibratedRates.lowerBound), Self.calibratedRates.upperBound)
            calibrated[path] = rate.rounded()
            observer.message("calibrated: \(path) costs \(Units.micros(UInt64(cost))) here now: \(Int(rate.rounded()))/s keeps it busy \(Int(share * 100)) % of the time")
        }
        return calibrated
    }

    /// Runs every phase; returns the results and whether every expectation passed.
    public func run(observer: Observer) async throws -> (results: [Expectation.PhaseResult], passed: Bool) {
        var results: [Expectation.PhaseResult] = []
        var passed = true
        var calibrated: [String: Double] = [:]
        for (i, phase) in scenario.phases.enumerated() {
            if (phase.utilisation ?? [:]).keys.contains(where: { calibrated[$0] == nil }) {
                calibrated.merge(try await calibrate(phase, observer: observer)) { a, _ in a }
            }
            observer.phaseStarted(i, phase)
            var rates = phase.load
            for path in (phase.utilisation ?? [:]).keys { rates[path] = calibrated[path] }
            let generator = generator(rates, seconds: phase.seconds)
            let load = Task { try await generator.run() }
            let sampler = Task { try await sampleLag(seconds: phase.seconds) }
            for action in phase.actions {
                if withholdActions {
                    observer.message("withheld: \(action.summary)")
                    continue
                }
                try await perform(action, observer: observer)
            }
            let report = try await load.value
            let lag = try await sampler.value
            let snapshot = try await client.snapshot()
            let result = Expectation.PhaseResult(name: phase.name, report: report, snapshot: snapshot, lagP99Micros: lag)
            let verdicts = phase.expect.map { $0.evaluate(result, earlier: results) }
            passed = passed && verdicts.allSatisfy(\.passed)
            results.append(result)
            observer.phaseFinished(i, result, verdicts)
        }
        return (results, passed)
    }

    /// The median, over the phase's second half, of each executor's per-second lag p99 (the
    /// worst loop's for the loops).
    private func sampleLag(seconds: Double) async throws -> [Expectation.LagExecutor: UInt64] {
        var samples: [Expectation.LagExecutor: [UInt64]] = [:]
        let start = Date()
        while Date().timeIntervalSince(start) < seconds {
            try await Task.sleep(nanoseconds: 1_000_000_000)
            if Date().timeIntervalSince(start) >= seconds / 2, let s = try? await client.snapshot() {
                for e in Expectation.LagExecutor.allCases { samples[e, default: []].append(e.lastSecondP99(s)) }
            }
        }
        return samples.mapValues { $0.sorted()[$0.count / 2] }
    }

    private func perform(_ action: ScenarioAction, observer: Observer) async throws {
        if let grace = userGraceSeconds, action.command != nil {
            observer.message("try it: \(action.summary) — autopilot does it in \(Int(grace)) s")
            let deadline = Date().addingTimeInterval(grace)
            while Date() < deadline {
                if let s = try? await client.snapshot(), action.isVisible(in: s) {
                    observer.message("you did it: \(action.summary)")
                    return
                }
                try await Task.sleep(nanoseconds: 250_000_000)
            }
        }
        switch action.kind {
        case .killWorker:
            try await Task.sleep(nanoseconds: 1_000_000_000)
            // Wait for a worker in the middle of a job, so a request is its victim. The
            // snapshot lists the workers, but its `busy` may be up to a frame old (the server
            // shares one snapshot for 90 ms) and a job lasts about as long, so the kernel
            // decides: a worker burning its job's CPU is running (`R`), an idle one sleeps on
            // its pipe.
            let deadline = Date().addingTimeInterval(6)
            var pids: [Int32] = []
            var listedAt = Date.distantPast
            while Date() < deadline {
                if Date().timeIntervalSince(listedAt) > 0.2 {
                    let s = try await client.snapshot()
                    // The pool named, else the first whose workers are listed (a process pool).
                    let pool = action.pool.map { s.pool($0) } ?? s.pools.first { $0.kind.listsWorkers }
                    pids = (pool?.workers ?? []).map(\.pid)
                    listedAt = Date()
                }
                if let pid = pids.first(where: { Self.isRunning(pid: $0) }) {
                    kill(pid, SIGKILL)
                    observer.message("autopilot: kill -9 worker \(pid) in the middle of a job")
                    return
                }
                try await Task.sleep(nanoseconds: 1_000_000)
            }
            observer.message("autopilot: no busy worker to kill")
        case .fix:
            try await Task.sleep(nanoseconds: 2_000_000_000)
            let s = try await client.snapshot()
            if let d = s.diagnoses.first(where: { $0.action != nil }) {
                let r = try await client.send(.fix(diagnosis: d.id))
                observer.message("autopilot: fix \(d.id): \(r.message ?? "ok")")
            } else {
                observer.message("autopilot: no diagnosis to fix")
            }
        case .route, .resize, .limit:
            guard let command = action.command else {
                observer.message("autopilot: cannot do '\(action.summary)': the scenario leaves out a field it needs")
                return
            }
            let r = try await client.send(command)
            observer.message("autopilot: \(r.message ?? action.summary)")
        }
    }

    /// Whether the process is on a CPU or waiting for one (state `R` in `/proc/PID/stat`).
    static func isRunning(pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first == "R"
    }
}
