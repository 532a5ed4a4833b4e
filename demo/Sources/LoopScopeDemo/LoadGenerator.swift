import Foundation
import Histogram
import NIOCore
import NIOPosix
import NIOConcurrencyHelpers

/// Sends a `LoadPlan` to a server over keep-alive connections and measures latency with HDR
/// histograms (microseconds). Open loop measures from the intended send time. Thread-safe.
public final class LoadGenerator: Sendable {
    public let plan: LoadPlan
    private let group: any EventLoopGroup
    private let stats: NIOLockedValueBox<LoadStats>
    /// Closed-loop workers' own statistics while they run.
    private let closedWorkers = NIOLockedValueBox<[NIOLockedValueBox<LoadStats>]>([])

    public init(plan: LoadPlan, group: any EventLoopGroup) {
        self.plan = plan
        self.group = group
        self.stats = NIOLockedValueBox(LoadStats(paths: plan.mix.map(\.path), perSecond: plan.perSecond))
        self.cycle = plan.schedule
    }

    /// The figures so far (for a live progress line).
    public func progress() -> LoadReport {
        var merged = stats.withLockedValue { $0 }
        for w in closedWorkers.withLockedValue({ $0 }) { w.withLockedValue { merged.merge($0) } }
        return merged.report(plan: plan, elapsed: merged.elapsed())
    }

    /// Runs the plan to its end (duration or request count) and reports.
    public func run() async throws -> LoadReport {
        var connections: [HTTPClientConnection] = []
        for _ in 0..<plan.connections {
            do {
                connections.append(try await HTTPClientConnection.connect(host: plan.host, port: plan.port, group: group).get())
            } catch {
                for c in connections { c.close() }
                throw LoadError("cannot connect to \(plan.host):\(plan.port): \(error)")
            }
        }
        stats.withLockedValue { $0.start = NIODeadline.now() }
        let deadline = NIODeadline.now() + .nanoseconds(Int64(plan.durationSeconds * 1e9))
        defer { for c in connections { c.close() } }
        switch plan.mode {
        case .closed(let concurrency):
            // Each worker chains its next request in the completion of the previous one, on
            // its connection's event loop: no task hops, and its own statistics (no contention).
            let workers = (0..<concurrency).map { _ in NIOLockedValueBox(LoadStats(paths: plan.mix.map(\.path))) }
            closedWorkers.withLockedValue { $0 = workers }
            await withTaskGroup(of: Void.self) { tasks in
                for i in 0..<concurrency {
                    let c = connections[i % connections.count]
                    tasks.addTask {
                        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                            self.closedLoop(c, stats: workers[i], deadline: deadline, done: done)
                        }
                    }
                }
            }
            for w in workers { w.withLockedValue { ws in stats.withLockedValue { $0.merge(ws) } } }
            closedWorkers.withLockedValue { $0 = [] }
        case .open(let rate):
            try await openLoop(connections, rate: rate, deadline: deadline)
        }
        return stats.withLockedValue { s in s.report(plan: plan, elapsed: s.elapsed()) }
    }

    /// `reopened`: `c` was opened by this worker (the run closes the others).
    private func closedLoop(_ c: HTTPClientConnection, stats worker: NIOLockedValueBox<LoadStats>, deadline: NIODeadline, done: CheckedContinuation<Void, Never>,
                            reopened: Bool = false) {
        guard NIODeadline.now() < deadline, let index = claim() else {
            if reopened { c.close() }
            done.resume()
            return
        }
        let sent = NIODeadline.now()
        c.get(plan.mix[index].path).whenComplete { [self] result in
            switch result {
            case .success(let r):
                worker.withLockedValue { $0.record(index, r, micros: UInt64(max((NIODeadline.now() - sent).nanoseconds, 0)) / 1000) }
                closedLoop(c, stats: worker, deadline: deadline, done: done, reopened: reopened)
            case .failure(let e):
                worker.withLockedValue { $0.error(index, Self.errorKind(e)) }
                // A connection the server closed is reopened, as a keep-alive client does.
                guard !c.isActive, NIODeadline.now() < deadline else {
                    if reopened { c.close() }
                    return done.resume()
                }
                HTTPClientConnection.connect(host: plan.host, port: plan.port, group: group).whenComplete { [self] reopened in
                    switch reopened {
                    case .success(let fresh):
                        worker.withLockedValue { $0.reopened += 1 }
                        closedLoop(fresh, stats: worker, deadline: deadline, done: done, reopened: true)
                    case .failure(let e):
                        worker.withLockedValue { $0.error(index, "connect: \(e)") }
                        done.resume()
                    }
                }
            }
        }
    }

    /// `GET path` on a connection of its own, closed after the answer.
    private func retryOnce(_ path: String) -> EventLoopFuture<HTTPClientConnection.Response> {
        HTTPClientConnection.connect(host: plan.host, port: plan.port, group: group).flatMap { c in
            c.get(path).always { _ in c.close() }
        }
    }

    /// How a failed request is counted: a connection the server closed before answering is
    /// told apart from other failures.
    static func errorKind(_ error: any Error) -> String {
        error is HTTPClientConnection.Closed ? "closed by the server before answering" : "connection: \(error)"
    }

    private func openLoop(_ initial: [HTTPClientConnection], rate: Double, deadline: NIODeadline) async throws {
        var connections = initial
        // The ones reopened here are closed here (`run` closes the initial ones), also on a throw.
        defer { for c in connections where !initial.contains(where: { $0 === c }) { c.close() } }
        let start = NIODeadline.now()
        let interval = 1e9 / rate
        var sent = 0
        var rng = SplitMix(seed: 0x5eed)
        var nextOffset = 0.0
        var inFlight: [Int] = Array(repeating: 0, count: connections.count)
        let pending = NIOLockedValueBox<[Int]>(inFlight)
        while true {
            let now = NIODeadline.now()
            if now >= deadline { break }
            // Send every request whose intended time has come.
            while true {
                let intended = start + .nanoseconds(Int64(plan.poisson ? nextOffset : Double(sent) * interval))
                if intended > now { break }
                guard var index = claim() else { break }
                if plan.poisson {
                    index = plan.pathIndex(uniform: rng.nextUnit())
                    nextOffset += -log(1 - rng.nextUnit()) * interval
                }
                inFlight = pending.withLockedValue { $0 }
                let pick = inFlight.indices.min { inFlight[$0] < inFlight[$1] } ?? 0
                if !connections[pick].isActive {
                    // The server closed it (an idle keep-alive timeout): reopen it, as a
                    // keep-alive client does, and count it apart from failed requests.
                    do {
                        connections[pick] = try await HTTPClientConnection.connect(host: plan.host, port: plan.port, group: group).get()
                        stats.withLockedValue { $0.reopened += 1 }
                    } catch {
                        recordError(index, "connect: \(error)")
                        sent += 1
                        continue
                    }
                }
                pending.withLockedValue { $0[pick] += 1 }
                let chosen = index
                let path = plan.mix[chosen].path
                connections[pick].get(path).whenComplete { [self] result in
                    switch result {
                    case .success(let r):
                        pending.withLockedValue { $0[pick] -= 1 }
                        record(chosen, r, latency: NIODeadline.now() - intended)
                    case .failure(let e) where e is HTTPClientConnection.Closed:
                        // The server closed the connection as the request went out (its
                        // keep-alive timeout racing the write): a GET is retried once on a
                        // fresh connection, as HTTP clients do; latency still counts from the
                        // intended send time.
                        stats.withLockedValue { $0.reopened += 1 }
                        retryOnce(path).whenComplete { [self] retried in
                            pending.withLockedValue { $0[pick] -= 1 }
                            switch retried {
                            case .success(let r): record(chosen, r, latency: NIODeadline.now() - intended)
                            case .failure(let e): recordError(chosen, Self.errorKind(e))
                            }
                        }
                    case .failure(let e):
                        pending.withLockedValue { $0[pick] -= 1 }
                        recordError(chosen, Self.errorKind(e))
                    }
                }
                sent += 1
            }
            if let max = plan.maxRequests, sent >= max { break }
            try await Task.sleep(nanoseconds: 500_000)
        }
        // Wait (bounded) for the answers still in flight.
        let drainUntil = NIODeadline.now() + .seconds(10)
        while pending.withLockedValue({ $0.reduce(0, +) }) > 0, NIODeadline.now() < drainUntil {
            try await Task.sleep(nanoseconds: 2_000_000)
        }
    }

    private let issued = NIOLockedValueBox(0)
    private let cycle: [Int]

    /// Takes the next request's path index, or nil when the request budget is spent.
    private func claim() -> Int? {
        issued.withLockedValue { n in
            if let max = plan.maxRequests, n >= max { return nil }
            defer { n += 1 }
            return cycle[n % cycle.count]
        }
    }

    private func record(_ index: Int, _ response: HTTPClientConnection.Response, latency: TimeAmount) {
        stats.withLockedValue { $0.record(index, response, micros: UInt64(max(latency.nanoseconds, 0)) / 1000) }
    }

    private func recordError(_ index: Int, _ kind: String) {
        stats.withLockedValue { $0.error(index, kind) }
    }
}

/// A small seeded generator, so runs are repeatable.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    mutating func nextUnit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

/// Accumulated figures of a run. A plain value kept under the generator's lock.
struct LoadStats {
    var paths: [String]
    var histograms: [Histogram<UInt64>]
    var total = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: .three)
    var errors: [String: Int] = [:]
    var errorsByPath: [Int]
    var completed = 0
    /// Connections the server closed that were reopened.
    var reopened = 0
    var start = NIODeadline.now()
    /// Per path, per second since `start`, the latencies that completed then (when kept).
    var seconds: [[[UInt64]]]?

    init(paths: [String], perSecond: Bool = false) {
        self.paths = paths
        seconds = perSecond ? paths.map { _ in [] } : nil
        histograms = paths.map { _ in Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: .three) }
        errorsByPath = paths.map { _ in 0 }
    }

    /// How a response counts: nil when it succeeded, else its kind, `HTTP 502`, …; a 503
    /// without `Retry-After` (a refusal that does not say when to come back) apart.
    static func errorKind(_ r: HTTPClientConnection.Response) -> String? {
        guard !(200..<300).contains(r.status) else { return nil }
        return r.status == 503 && r.headers["retry-after"].isEmpty ? "HTTP 503 without Retry-After" : "HTTP \(r.status)"
    }

    mutating func record(_ i: Int, _ response: HTTPClientConnection.Response, micros: UInt64) {
        let v = min(max(micros, 1), 120_000_000)
        _ = histograms[i].record(v)
        _ = total.record(v)
        completed += 1
        if seconds != nil {
            let second = Int((NIODeadline.now() - start).nanoseconds / 1_000_000_000)
            while seconds![i].count <= second { seconds![i].append([]) }
            seconds![i][second].append(v)
        }
        if let kind = Self.errorKind(response) {
            errors[kind, default: 0] += 1
            errorsByPath[i] += 1
        }
    }

    mutating func error(_ i: Int, _ kind: String) {
        errors[kind, default: 0] += 1
        errorsByPath[i] += 1
    }

    /// Adds another worker's figures (its start time is ignored).
    mutating func merge(_ o: LoadStats) {
        for i in histograms.indices { histograms[i].add(o.histograms[i]); errorsByPath[i] += o.errorsByPath[i] }
        total.add(o.total)
        for (k, v) in o.errors { errors[k, default: 0] += v }
        completed += o.completed
        reopened += o.reopened
    }

    /// The median of the whole seconds' p99s over the second half of a run of `elapsed` seconds.
    static func typicalP99(_ seconds: [[UInt64]], elapsed: Double) -> UInt64? {
        let whole = min(seconds.count, Int(elapsed))
        let p99s = seconds.prefix(whole).suffix(max(whole / 2, 1)).filter { !$0.isEmpty }.map { values -> UInt64 in
            let sorted = values.sorted()
            return sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.99).rounded(.up)) - 1)]
        }.sorted()
        return p99s.isEmpty ? nil : p99s[p99s.count / 2]
    }

    func elapsed() -> Double { Double((NIODeadline.now() - start).nanoseconds) / 1e9 }

    func report(plan: LoadPlan, elapsed: Double) -> LoadReport {
        func row(_ name: String, _ h: Histogram<UInt64>, errors: Int) -> LoadReport.Row {
            LoadReport.Row(path: name, requests: Int(h.totalCount), errors: errors, rate: Double(h.totalCount) / max(elapsed, 1e-9),
                           p50: h.totalCount > 0 ? h.valueAtPercentile(50) : 0, p90: h.totalCount > 0 ? h.valueAtPercentile(90) : 0,
                           p99: h.totalCount > 0 ? h.valueAtPercentile(99) : 0, p999: h.totalCount > 0 ? h.valueAtPercentile(99.9) : 0,
                           max: h.totalCount > 0 ? h.max : 0)
        }
        var rows = paths.indices.map { i in
            var r = row(paths[i], histograms[i], errors: errorsByPath[i])
            r.typicalP99 = seconds.flatMap { Self.typicalP99($0[i], elapsed: elapsed) }
            return r
        }
        rows.append(row("all", total, errors: errorsByPath.reduce(0, +)))
        return LoadReport(mode: plan.mode, seconds: elapsed, rows: rows, errors: errors, reopened: reopened)
    }
}
