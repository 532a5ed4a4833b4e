import Foundation
import Testing
import LoopScopeWire

@Suite struct SnapshotJSONTests {
    static func rich() -> Snapshot {
        var loop = LoopFigures(name: "loop \"0\"\n", lag: WindowedPercentiles(last1s: Percentiles(count: 3, p50: 1, p90: 2, p99: 3, p999: 4, max: 5, mean: 2.5)), stalls: 7, culprit: "/hash", culpritHeldMicros: 9, lagHistory: [1, 2, 3])
        loop.stallInProgress = StallInProgress(route: nil, heldMicros: 123_456)
        let pool = PoolFigures(name: "processes", kind: .processes, size: 2, live: 2, busy: 1, queued: 3, queueLimit: 10, completed: 5, rejected: 1, failed: 2, completedPerSecond: 0.5,
                               queueHistory: [0, 3], workers: [WorkerFigures(pid: 77, jobsDone: 4, restarts: 1, residentBytes: 1 << 30, busy: true)])
        let route = RouteFigures(method: "GET", path: "/users/:id", model: .processes, requests: 10, inFlight: -1, rate1s: 1.25, rate10s: 1e-7, status: StatusCounts(s2xx: 1, s3xx: 2, s4xx: 3, s5xx: 4),
                                 p99History: [5], rateHistory: [6], split: LatencySplit(queueMicros: 1.5, computeMicros: 2, ioMicros: 3.75),
                                 compute: ComputeFigures(wallMicros: 5000.125, cpuMicros: 4999, samples: 8), workClass: .blocking, held: HeldFigures(count: 1, totalMicros: 2, perRequestMicros: 3.5),
                                 histogram: [HistogramBucket(upToMicros: 10, count: 1)])
        let diagnoses = [
            Diagnosis(id: "a", severity: .critical, summary: "tab\there", evidence: ["e1", "é2 ✓"], action: .reroute(route: "/x", model: .threads)),
            Diagnosis(id: "b", severity: .warning, summary: "s", evidence: [], action: .resize(pool: "threads", size: 4)),
            Diagnosis(id: "c", severity: .info, summary: "s", evidence: [], action: .limit(pool: "p", limit: 9)),
            Diagnosis(id: "d", severity: .info, summary: "\u{1}", evidence: [], action: nil),
        ]
        return Snapshot(sequence: 42, time: 1_795_000_000.123, server: ServerInfo(name: "n", pid: 1, startedAt: 2.5, uptimeSeconds: 3, address: "127.0.0.1:1", instrumented: false, cores: 2),
                        loops: [loop], tasks: LoopFigures(name: "tasks"), pools: [pool], routes: [route],
                        events: [ControlEvent(sequence: 1, time: 3.5, kind: .workerDied, subject: "processes", old: "pid 1", new: "restarting", actor: "runtime")],
                        eventsDropped: 3, diagnoses: diagnoses, selfCost: SelfCost(nanosPerRequest: 180.5, statisticsBytes: 99, framesDropped: 2, snapshotMicros: 0.25),
                        connections: ConnectionFigures(open: 3, limit: 10, accepted: 20, closedHeaderTimeout: 4, closedIdle: 5, refusedOverLimit: 6, bodyTooLarge: 7))
    }

    @Test func theFastEncodingDecodesToTheSameSnapshot() throws {
        let s = Self.rich()
        let decoded = try JSONDecoder().decode(Snapshot.self, from: Data(s.json()))
        #expect(decoded == s)
        #expect(try JSONDecoder().decode(Snapshot.self, from: Data(WireCodec().encode(s))) == s)
    }

    @Test func anUnchangedFrameRebuildsTheSnapshotItStandsFor() throws {
        let before = Self.rich()
        var after = before
        after.sequence += 3
        after.time += 0.3
        after.server.uptimeSeconds += 0.3
        after.selfCost.snapshotMicros += 17
        // Only the moving fields differ: same content.
        #expect(UnchangedFrame.content(of: before) == UnchangedFrame.content(of: after))
        let line = WireCodec().encodeLine(ServerMessage(unchanged: UnchangedFrame(subscription: 2, dropped: 1, of: after)))
        #expect(line.count < 400, "an unchanged line is short: \(line.count) bytes")
        let decoded = try #require(try WireCodec().decodeServerMessage(Array(line.dropLast())).unchanged)
        let frame = decoded.applied(to: before)
        #expect(frame.snapshot == after && frame.subscription == 2 && frame.dropped == 1)
        // Any figure that moves is content.
        var moved = after
        moved.routes[0].requests += 1
        #expect(UnchangedFrame.content(of: moved) != UnchangedFrame.content(of: after))
    }

    @Test func aSnapshotFromAnOlderServerWithoutConnectionsStillDecodes() throws {
        var s = Self.rich()
        s.connections = nil
        let text = String(decoding: s.json(), as: UTF8.self)
        #expect(!text.contains("\"connections\""))
        let decoded = try WireCodec().decode(Snapshot.self, from: Array(text.utf8))
        #expect(decoded.connections == nil)
        #expect(decoded == s)
    }
}

extension SnapshotJSONTests {
    /// Every field marked `@AddedLater` in the snapshot's types.
    static let addedLater = ["closedBodyTimeout", "stallSites", "stallSitesOmitted", "loopWaitMicros", "poolWaitMicros",
                             "asyncMicros", "stallSamples", "stallSampleMicros", "perRequest"]

    @Test func fieldsAddedLaterRoundTripAndReadAsZeroWhenAnOlderServerLacksThem() throws {
        var s = Self.rich()
        s.connections?.closedBodyTimeout = 8
        s.loops[0].stallSitesOmitted = 2
        s.routes[0].split.loopWaitMicros = 4.5
        s.routes[0].split.poolWaitMicros = 1.25
        s.routes[0].held.asyncMicros = 3
        for measure in RequestMeasure.allCases { s.routes[0].perRequest[measure] = Double(1000 + measure.rawValue) }
        s.selfCost.stallSamples = 5
        s.selfCost.stallSampleMicros = 30.5
        let text = String(decoding: s.json(), as: UTF8.self)
        for key in Self.addedLater { #expect(text.contains("\"\(key)\":"), "\(key) is encoded as its bare value") }
        #expect(text.contains("\"loopWaitMicros\":4.5"))
        #expect(try WireCodec().decode(Snapshot.self, from: Array(text.utf8)) == s)

        // An older server's snapshot: none of those keys.
        func strip(_ value: Any) -> Any {
            if let object = value as? [String: Any] {
                return object.filter { !Self.addedLater.contains($0.key) }.mapValues(strip)
            }
            if let array = value as? [Any] { return array.map(strip) }
            return value
        }
        let older = try JSONSerialization.data(withJSONObject: strip(JSONSerialization.jsonObject(with: Data(s.json()))))
        #expect(!String(decoding: older, as: UTF8.self).contains("loopWaitMicros"))
        let decoded = try WireCodec().decode(Snapshot.self, from: Array(older))
        #expect(decoded.connections?.closedBodyTimeout == 0 && decoded.loops[0].stallSitesOmitted == 0 && decoded.loops[0].stallSites.isEmpty)
        #expect(decoded.routes[0].split.loopWaitMicros == 0 && decoded.routes[0].split.poolWaitMicros == 0 && decoded.routes[0].held.asyncMicros == 0)
        #expect(decoded.selfCost.stallSamples == 0 && decoded.selfCost.stallSampleMicros == 0)
        #expect(decoded.routes[0].perRequest == PerRequestMeans())
        // A measure added after the others: its key alone absent reads as 0, the others as sent.
        let full = try #require(JSONSerialization.jsonObject(with: Data(s.json())) as? [String: Any])
        for measure in RequestMeasure.allCases {
            var one = PerRequestMeans()
            one[measure] = 7
            let keys = try #require(JSONSerialization.jsonObject(with: JSONEncoder().encode(one)) as? [String: Double])
            let key = try #require(keys.first { $0.value == 7 }?.key)
            var object = full
            var routes = try #require(object["routes"] as? [[String: Any]])
            var perRequest = try #require(routes[0]["perRequest"] as? [String: Any])
            #expect(perRequest.removeValue(forKey: key) != nil, "\(key) on the wire")
            routes[0]["perRequest"] = perRequest
            object["routes"] = routes
            let read = try WireCodec().decode(Snapshot.self, from: Array(JSONSerialization.data(withJSONObject: object)))
            for other in RequestMeasure.allCases { #expect(read.routes[0].perRequest[other] == (other == measure ? 0 : s.routes[0].perRequest[other])) }
        }
        // Everything else as sent.
        #expect(decoded.routes[0].split.queueMicros == 1.5 && decoded.connections?.closedIdle == 5)
    }

    @Test func aFieldThatIsNotAddedLaterIsStillRequired() throws {
        let object = try #require(JSONSerialization.jsonObject(with: Data(JSONStreamEncoder.encode(Self.rich().selfCost))) as? [String: Any])
        let withoutRequired = try JSONSerialization.data(withJSONObject: object.filter { $0.key != "statisticsBytes" })
        #expect(throws: (any Error).self) { try WireCodec().decode(SelfCost.self, from: Array(withoutRequired)) }
    }
}

@Suite struct JSONStreamEncoderTests {
    @Test func writesTheSameDocumentAsFoundationsEncoder() throws {
        let s = SnapshotJSONTests.rich()
        let ours = try JSONSerialization.jsonObject(with: Data(s.json())) as? NSDictionary
        let foundation = try JSONSerialization.jsonObject(with: JSONEncoder().encode(s)) as? NSDictionary
        #expect(ours != nil)
        #expect(ours == foundation)
    }

    @Test func encodesNestedArraysOptionalsAndDictionaries() throws {
        struct Inner: Codable, Equatable { var a: [[Int]]; var b: String?; var c: [String: Double] }
        struct Outer: Codable, Equatable { var inner: [Inner]; var flag: Bool; var tail: UInt64 }
        let v = Outer(inner: [Inner(a: [[1, -2], [], [3]], b: nil, c: ["x\"y": 1.5]), Inner(a: [], b: "é\n", c: [:])], flag: true, tail: .max)
        let bytes = JSONStreamEncoder.encode(v)
        #expect(try JSONDecoder().decode(Outer.self, from: Data(bytes)) == v)
        #expect(String(decoding: bytes, as: UTF8.self).hasPrefix(#"{"inner":[{"a":[[1,-2],[],[3]],"c":{"x\"y":1.5}}"#))
    }
}

@Suite struct ConnectionReportTests {
    @Test func prometheusTextHasTheConnectionsWithOneReasonLabelPerCause() {
        let text = PrometheusText.render(SnapshotJSONTests.rich())
        #expect(text.contains(#"loopscope_connections_open{server="n"} 3"#))
        #expect(text.contains(#"loopscope_connections_limit{server="n"} 10"#))
        #expect(text.contains(#"loopscope_connections_accepted_total{server="n"} 20"#))
        for (reason, count) in [("header_timeout", 4), ("idle_timeout", 5), ("over_limit", 6), ("body_too_large", 7)] {
            #expect(text.contains(#"loopscope_connections_closed_total{server="n",reason="\#(reason)"} \#(count)"#))
        }
    }

    @Test func aSnapshotWithoutConnectionsExportsNone() {
        var s = SnapshotJSONTests.rich()
        s.connections = nil
        #expect(!PrometheusText.render(s).contains("connections_"))
        #expect(!SnapshotTable.render(s).contains("connections"))
    }

    @Test func theTableSaysWhatTheServerClosedWhy() {
        let table = SnapshotTable.render(SnapshotJSONTests.rich())
        #expect(table.contains("connections 3 open (limit 10), 20 accepted; closed by the server: header timeout 4, idle 5, body timeout 0, over limit 6, 413 7"))
    }
}

@Suite struct PrometheusHistogramTests {
    @Test func routeLatencyIsARealHistogramWithFixedCumulativeBuckets() {
        var s = SnapshotJSONTests.rich()
        // 2 at ≤ 10 µs, 1 at ≤ 50 µs, 3 at ≤ 100 µs, 4 at ≤ 2 ms, 1 at ≤ 5 s.
        s.routes[0].histogram = [HistogramBucket(upToMicros: 10, count: 2), HistogramBucket(upToMicros: 20, count: 0), HistogramBucket(upToMicros: 50, count: 1),
                                 HistogramBucket(upToMicros: 100, count: 3), HistogramBucket(upToMicros: 2_000, count: 4), HistogramBucket(upToMicros: 5_000_000, count: 1)]
        s.routes[0].latencySumMicros = 5_012_345
        let text = PrometheusText.render(s)
        let labels = #"server="n",method="GET",route="/users/:id""#
        #expect(text.contains("# TYPE loopscope_route_request_duration_seconds histogram\n"))
        for (le, count) in [("0.0001", 6), ("0.0002", 6), ("0.001", 6), ("0.002", 10), ("1", 10), ("5", 11), ("50", 11), ("+Inf", 11)] {
            #expect(text.contains("loopscope_route_request_duration_seconds_bucket{\(labels),le=\"\(le)\"} \(count)\n"), "le \(le)")
        }
        #expect(text.contains("loopscope_route_request_duration_seconds_sum{\(labels)} 5.012345\n"))
        #expect(text.contains("loopscope_route_request_duration_seconds_count{\(labels)} 11\n"))
        // The same bounds for every series: 100 µs to 50 s on a 1-2-5 series, then +Inf.
        #expect(PrometheusText.histogramBoundsMicros.first == 100 && PrometheusText.histogramBoundsMicros.last == 50_000_000)
        #expect(PrometheusText.histogramBoundsMicros.count == 18)
    }

    @Test func lagAndPoolWaitAreHistogramsWhereTheSnapshotHasThem() {
        var s = SnapshotJSONTests.rich()
        s.loops[0].lagHistogram = CumulativeHistogram(buckets: [HistogramBucket(upToMicros: 100, count: 7)], sumMicros: 420)
        s.pools[0].queueWaitHistogram = CumulativeHistogram(buckets: [HistogramBucket(upToMicros: 1_000, count: 2)], sumMicros: 1_500)
        let text = PrometheusText.render(s)
        #expect(text.contains(#"loopscope_executor_lag_duration_seconds_count{server="n",executor="loop \"0\"\n"} 7"#))
        #expect(text.contains(#"loopscope_pool_queue_wait_duration_seconds_bucket{server="n",pool="processes",le="0.001"} 2"#))
        #expect(text.contains(#"loopscope_pool_queue_wait_duration_seconds_sum{server="n",pool="processes"} 0.0015"#))
        // The cooperative pool of this snapshot has none: no series for it.
        #expect(!text.contains(#"executor_lag_duration_seconds_count{server="n",executor="tasks"}"#))
    }

    @Test func aGroupsWorkersShareEachFamilyWithTheirOwnSeries() {
        var a = SnapshotJSONTests.rich(), b = SnapshotJSONTests.rich()
        a.server.member = GroupMember(group: "n/1", worker: 0, size: 3)
        b.server.member = GroupMember(group: "n/1", worker: 1, size: 3)
        let text = PrometheusText.render([a, b], workersUp: [("n", 0, true), ("n", 1, true), ("n", 2, false)])
        let lines = text.split(separator: "\n")
        // Each family once, and all its samples together (the format's rule), both workers in it.
        let types = lines.filter { $0.hasPrefix("# TYPE ") }
        #expect(Set(types).count == types.count && types.count == PrometheusText.render(a).split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.count + 1)
        let histograms = Set(types.filter { $0.hasSuffix(" histogram") }.map { $0.split(separator: " ")[2] })
        var seen: [Substring] = []
        for line in lines where !line.hasPrefix("#") {
            var family = line.prefix { $0 != "{" && $0 != " " }
            for suffix in ["_bucket", "_sum", "_count"] where family.hasSuffix(suffix) && histograms.contains(family.dropLast(suffix.count)) {
                family = family.dropLast(suffix.count)
            }
            if seen.last != family { #expect(!seen.contains(family), "\(family) is split"); seen.append(family) }
        }
        #expect(text.contains(#"loopscope_uptime_seconds{server="n",worker="0"} 3"#) && text.contains(#"loopscope_uptime_seconds{server="n",worker="1"} 3"#))
        #expect(text.contains(#"loopscope_worker_up{server="n",worker="2"} 0"#) && text.contains(#"loopscope_worker_up{server="n",worker="1"} 1"#))
    }
}

/// docs/grafana-loopscope.json is built on metrics the server exports: every `loopscope_…` name
/// in its expressions is a family of `PrometheusText` (a histogram's with its suffixes).
/// `.ci/prometheus-e2e` runs every expression against a real Prometheus as well.
@Suite struct GrafanaDashboardTests {
    @Test func everyExpressionNamesExportedMetrics() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/grafana-loopscope.json")
        let dashboard = try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as? [String: Any]
        let panels = try #require(dashboard?["panels"] as? [[String: Any]])
        let exprs = panels.flatMap { ($0["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String } }
        #expect(exprs.count >= 12)

        var s = SnapshotJSONTests.rich()
        s.loops[0].lagHistogram = CumulativeHistogram(buckets: [HistogramBucket(upToMicros: 100, count: 1)], sumMicros: 50)
        s.loops[0].cpu = 0.5
        s.loops[0].cpu10s = 0.5
        s.pools[0].queueWaitHistogram = CumulativeHistogram()
        s.pools[0].timedOut = 0
        var exported = Set<String>()
        for line in PrometheusText.render(s).split(separator: "\n") where line.hasPrefix("# TYPE ") {
            let parts = line.split(separator: " ")
            let name = String(parts[2])
            exported.insert(name)
            if parts[3] == "histogram" { for suffix in ["_bucket", "_sum", "_count"] { exported.insert(name + suffix) } }
        }
        let pattern = try Regex("loopscope_[a-z0-9_]+")
        for expr in exprs {
            for match in expr.matches(of: pattern) {
                #expect(exported.contains(String(expr[match.range])), "\(expr[match.range]) in \(expr)")
            }
        }
    }
}

/// The split's parts are listed once (`LatencySplit.Part`); everything that shows them follows.
@Suite struct LatencySplitPartTests {
    @Test func eachPartReadsAndWritesItsOwnFigure() {
        var split = LatencySplit()
        for part in LatencySplit.Part.allCases { split[part] = Double(part.rawValue + 1) * 10 }
        #expect(split == LatencySplit(loopWaitMicros: 10, queueMicros: 20, computeMicros: 30, ioMicros: 50, poolWaitMicros: 40))
        #expect(split.parts.map(\.name) == ["loop wait", "queue", "compute", "pool wait", "I/O"])
        #expect(split.parts.map(\.micros) == [10, 20, 30, 40, 50])
        // The sums keep the parts in a SIMD8 vector, indexed by the raw value.
        #expect(LatencySplit.Part.allCases.count <= 8)
        #expect(LatencySplit.Part.allCases.map(\.rawValue) == Array(LatencySplit.Part.allCases.indices))
    }

    @Test func everyPartHasItsCSVColumnAndTheTableShowsLoopWait() {
        let header = SnapshotCSV.header.split(separator: ",").map(String.init)
        for part in LatencySplit.Part.allCases { #expect(header.contains(part.column.key)) }
        var route = RouteFigures(method: "GET", path: "/x", model: .loop)
        route.split = LatencySplit(loopWaitMicros: 1500, queueMicros: 2, computeMicros: 3, ioMicros: 4, poolWaitMicros: 5)
        let row = SnapshotCSV.rows(Snapshot(server: ServerInfo(name: "n", pid: 1, startedAt: 0, uptimeSeconds: 0, address: ""), routes: [route]))
        #expect(row.first?.contains(",1500,2,3,5,4,") == true, "\(row)")
        #expect(RouteColumn.all.contains { $0.key == "loop_wait_us" && $0.table?.header == "wait" })
    }
}
