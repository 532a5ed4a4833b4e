import Testing
@testable import LoopScopeWire

/// Every `RequestMeasure` reaches every output from its one declaration.
@Suite struct RequestMeasureTests {
    /// A snapshot whose one route has each measure at a distinct value (1000 + its index).
    static func snapshot(rate: Double = 5, base: Double = 1000) -> Snapshot {
        var route = RouteFigures(method: "POST", path: "/upload", model: .loop, requests: 50, rate1s: rate, rate10s: rate)
        for m in RequestMeasure.allCases { route.perRequest[m] = base + Double(m.rawValue) }
        return Snapshot(sequence: 1, time: 1_000, server: ServerInfo(name: "app", pid: 7, startedAt: 900, uptimeSeconds: 100, address: "127.0.0.1:1", cores: 2),
                        loops: [], tasks: LoopFigures(name: "tasks"), pools: [], routes: [route])
    }

    @Test func theMeasuresFitTheRequestsVector() {
        #expect(RequestMeasure.allCases.count <= RequestMeasure.capacity)
        #expect(Set(RequestMeasure.allCases.map(\.about.key)).count == RequestMeasure.allCases.count, "keys are distinct")
    }

    @Test func aRequestReportsAMeasureOrNot() {
        var m = RequestMeasures()
        for measure in RequestMeasure.allCases { #expect(m[measure] == nil) }
        let first = RequestMeasure.allCases[0]
        m[first] = 0
        #expect(m[first] == 0, "zero is a value, not absence")
        m[first]? += 512
        #expect(m[first] == 512)
        m[first] = nil
        #expect(m[first] == nil && m == RequestMeasures())
    }

    @Test func eachMeasureIsACSVColumnATableColumnWhenItHasAHeaderAndAPrometheusFamily() throws {
        let s = Self.snapshot()
        let csv = SnapshotCSV.render(s).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let header = try #require(csv.first)
        let row = try #require(csv.dropFirst().first { $0.contains("/upload") })
        let table = SnapshotTable.render(s)
        let prometheus = PrometheusText.render(s)
        for m in RequestMeasure.allCases {
            let value = 1000 + Double(m.rawValue)
            let column = try #require(header.firstIndex(of: m.about.key), "CSV column \(m.about.key)")
            #expect(Double(row[column]) == value)
            if let h = m.about.header {
                #expect(table.contains(h), "table header \(h)")
                #expect(table.contains(m.about.unit.text(value)), "table value \(m.about.unit.text(value))")
            }
            let family = "loopscope_route_" + m.about.key
            #expect(prometheus.contains("# HELP \(family) \(m.about.help)"))
            #expect(prometheus.contains("# TYPE \(family) gauge"))
            #expect(prometheus.contains("\(family){server=\"app\",method=\"POST\",route=\"/upload\"} \(Int(value))"), "\(family)")
        }
    }

    @Test func aGroupsMeasuresAreTheWorkersMeansWeightedByTheirRates() {
        let busy = WorkerSnapshot(worker: 0, snapshot: Self.snapshot(rate: 30, base: 1000))
        let quiet = WorkerSnapshot(worker: 1, snapshot: Self.snapshot(rate: 10, base: 2000))
        let merged = GroupMerge.merge([busy, quiet], group: "app/1")
        for m in RequestMeasure.allCases {
            #expect(merged.routes.first?.perRequest[m] == (30 * (1000 + Double(m.rawValue)) + 10 * (2000 + Double(m.rawValue))) / 40)
        }
    }

    @Test func theRouteDetailLineNamesEachMeasureWithAValue() {
        var means = PerRequestMeans()
        #expect(means.described.isEmpty)
        for m in RequestMeasure.allCases { means[m] = 2048 }
        #expect(means.described == RequestMeasure.allCases.map { "\($0.about.name) \($0.about.unit.text(2048))" })
        #expect(RequestMeasure.Unit.bytes.text(2048) == "2.0 KB")
    }
}
