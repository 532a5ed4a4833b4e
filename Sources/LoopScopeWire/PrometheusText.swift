import Foundation

/// Renders a snapshot in the Prometheus text exposition format (version 0.0.4). Pure.
///
/// Latency figures are in seconds, as Prometheus convention asks. Windowed percentiles are
/// exported as gauges labelled with `window` and `percentile`; the distributions since start
/// (route latency, executor lag, pool queue wait) also as real histograms (`_bucket` with the
/// fixed bounds `histogramBoundsMicros`, `_sum`, `_count`), which Prometheus can aggregate
/// across workers and instances with `histogram_quantile`.
public enum PrometheusText {
    public static func render(_ s: Snapshot) -> String { render([s]) }

    /// Several servers' snapshots (a group's workers) in one exposition: each family once,
    /// holding every server's series (told apart by their `worker` label, as the format asks:
    /// a family's samples in one group). `workersUp`: `loopscope_worker_up` for each worker of
    /// a group, 0 for one that did not answer (its series are then absent).
    public static func render(_ snapshots: [Snapshot], workersUp: [(server: String, worker: Int, up: Bool)] = []) -> String {
        var families = Families()
        for s in snapshots { describe(s, into: &families) }
        if !workersUp.isEmpty {
            families.family("worker_up", "gauge", "Whether the group's worker answered this scrape (1) or not (0).",
                            workersUp.map { ([("server", $0.server), ("worker", String($0.worker))], $0.up ? 1 : 0) })
        }
        return families.text
    }

    /// Families in the order first seen, each with its samples from every snapshot.
    private struct Families {
        private var order: [String] = []
        private var bodies: [String: String] = [:]

        private mutating func open(_ name: String, _ type: String, _ help: String) {
            guard bodies[name] == nil else { return }
            order.append(name)
            bodies[name] = "# HELP loopscope_\(name) \(help)\n# TYPE loopscope_\(name) \(type)\n"
        }

        mutating func family(_ name: String, _ type: String, _ help: String, _ samples: [(labels: [(String, String)], value: Double)]) {
            open(name, type, help)
            for sample in samples {
                let labels = sample.labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",")
                bodies[name]! += "loopscope_\(name)\(labels.isEmpty ? "" : "{\(labels)}") \(number(sample.value))\n"
            }
        }

        /// A histogram family: for each series, cumulative `_bucket`s at the fixed bounds and
        /// `+Inf`, `_sum` and `_count`.
        mutating func histogram(_ name: String, _ help: String, _ series: [(labels: [(String, String)], histogram: CumulativeHistogram)]) {
            guard !series.isEmpty else { return }
            open(name, "histogram", help)
            var out = ""
            for (labels, h) in series {
                let text = labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",")
                let prefix = text.isEmpty ? "" : text + ","
                for bound in histogramBoundsMicros {
                    out += "loopscope_\(name)_bucket{\(prefix)le=\"\(number(Double(bound) / 1e6))\"} \(h.count(atOrBelow: bound))\n"
                }
                let count = h.count
                out += "loopscope_\(name)_bucket{\(prefix)le=\"+Inf\"} \(count)\n"
                out += "loopscope_\(name)_sum\(text.isEmpty ? "" : "{\(text)}") \(number(Double(h.sumMicros) / 1e6))\n"
                out += "loopscope_\(name)_count\(text.isEmpty ? "" : "{\(text)}") \(count)\n"
            }
            bodies[name]! += out
        }

        var text: String { order.map { bodies[$0]! }.joined() }
    }

    /// One snapshot's series.
    private static func describe(_ s: Snapshot, into families: inout Families) {
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(labels: [(String, String)], value: Double)]) {
            families.family(name, type, help, samples)
        }
        func histogram(_ name: String, _ help: String, _ series: [(labels: [(String, String)], histogram: CumulativeHistogram)]) {
            families.histogram(name, help, series)
        }
        // A worker of a group (`serve --workers N`) says which one: series stay apart.
        let server = [("server", s.server.name)] + (s.server.member.map { [("worker", String($0.worker))] } ?? [])
        family("uptime_seconds", "gauge", "Seconds since the server started.", [(server, s.server.uptimeSeconds)])

        let executors = s.loops + [s.tasks]
        var lag: [([(String, String)], Double)] = []
        for e in executors {
            for (window, p) in [("1s", e.lag.last1s), ("10s", e.lag.last10s)] {
                for (q, v) in quantiles(p) { lag.append((server + [("executor", e.name), ("window", window), ("percentile", q)], Double(v) / 1e6)) }
            }
        }
        family("lag_seconds", "gauge", "How late the executor's probe timer fired, windowed percentiles (100 = max).", lag)
        family("stalls_total", "counter", "Probe firings later than the stall threshold.", executors.map { (server + [("executor", $0.name)], Double($0.stalls)) })
        histogram("executor_lag_duration_seconds", "How late the executor's probe timer fired, every probe since start.",
                  executors.compactMap { e in e.lagHistogram.map { (server + [("executor", e.name)], $0) } })
        family("executor_cpu_ratio", "gauge", "Share of the last second (window 1s) or ten (10s) the executor's threads ran on a CPU, per thread.",
               executors.flatMap { e in [("1s", e.cpu), ("10s", e.cpu10s)].compactMap { w, v in v.map { (server + [("executor", e.name), ("window", w)], $0) } } })

        let pools = s.pools
        family("pool_size", "gauge", "Workers the pool is sized to.", pools.map { (server + [("pool", $0.name)], Double($0.size)) })
        family("pool_busy", "gauge", "Workers running a job.", pools.map { (server + [("pool", $0.name)], Double($0.busy)) })
        family("pool_queued", "gauge", "Jobs waiting for a worker.", pools.map { (server + [("pool", $0.name)], Double($0.queued)) })
        family("pool_queue_limit", "gauge", "Jobs that may wait before new ones are refused.", pools.map { (server + [("pool", $0.name)], Double($0.queueLimit)) })
        family("pool_completed_total", "counter", "Jobs completed.", pools.map { (server + [("pool", $0.name)], Double($0.completed)) })
        family("pool_rejected_total", "counter", "Jobs refused because the queue was full.", pools.map { (server + [("pool", $0.name)], Double($0.rejected)) })
        family("pool_failed_total", "counter", "Jobs that failed in a worker.", pools.map { (server + [("pool", $0.name)], Double($0.failed)) })
        family("pool_timed_out_total", "counter", "Jobs answered 504 at the pool's job timeout (their worker replaced).",
               pools.compactMap { p in p.timedOut.map { (server + [("pool", p.name)], Double($0)) } })
        var wait: [([(String, String)], Double)] = []
        for p in pools { for (q, v) in quantiles(p.queueWait.last10s) { wait.append((server + [("pool", p.name), ("window", "10s"), ("percentile", q)], Double(v) / 1e6)) } }
        family("pool_queue_wait_seconds", "gauge", "Time jobs waited for a worker, windowed percentiles (100 = max).", wait)
        histogram("pool_queue_wait_duration_seconds", "Time jobs waited for a worker, every job since start.",
                  pools.compactMap { p in p.queueWaitHistogram.map { (server + [("pool", p.name)], $0) } })

        let routes = s.routes
        func routeLabels(_ r: RouteFigures) -> [(String, String)] { server + [("method", r.method), ("route", r.path)] }
        family("route_requests_total", "counter", "Requests completed.", routes.map { (routeLabels($0), Double($0.requests)) })
        var status: [([(String, String)], Double)] = []
        for r in routes {
            for (c, v) in [("2xx", r.status.s2xx), ("3xx", r.status.s3xx), ("4xx", r.status.s4xx), ("5xx", r.status.s5xx)] {
                status.append((routeLabels(r) + [("class", c)], Double(v)))
            }
        }
        family("route_responses_total", "counter", "Responses by status class.", status)
        family("route_timeouts_total", "counter", "Requests that failed because something timed out, by what (at most \(TimeoutCount.kept) reasons per route).",
               routes.flatMap { r in (r.timeouts ?? []).map { (routeLabels(r) + [("reason", $0.reason)], Double($0.count)) } })
        family("route_in_flight", "gauge", "Requests started and not yet answered.", routes.map { (routeLabels($0), Double($0.inFlight)) })
        var latency: [([(String, String)], Double)] = []
        for r in routes {
            for (window, p) in [("1s", r.latency.last1s), ("10s", r.latency.last10s)] {
                for (q, v) in quantiles(p) { latency.append((routeLabels(r) + [("window", window), ("percentile", q)], Double(v) / 1e6)) }
            }
        }
        family("route_latency_seconds", "gauge", "Request latency, windowed percentiles (100 = max).", latency)
        histogram("route_request_duration_seconds", "Request latency (the wait for a busy loop included where measured), every request since start.",
                  routes.map { r in (routeLabels(r), CumulativeHistogram(buckets: r.histogram, sumMicros: r.latencySumMicros ?? 0)) })
        var split: [([(String, String)], Double)] = []
        for r in routes {
            for part in r.split.parts { split.append((routeLabels(r) + [("part", part.name)], part.micros / 1e6)) }
        }
        family("route_split_seconds", "gauge", "Mean time per request by where it went (loop wait, queue, compute, pool wait, I/O), last 10 s.", split)
        for measure in RequestMeasure.allCases {
            family("route_" + measure.about.key, "gauge", measure.about.help, routes.map { (routeLabels($0), $0.perRequest[measure]) })
        }
        var sites: [([(String, String)], Double)] = []
        for e in executors {
            for site in e.stallSites { sites.append((server + [("executor", e.name), ("site", site.function), ("state", site.state.rawValue)], Double(site.total.micros) / 1e6)) }
        }
        family("stall_site_seconds_total", "counter", "Stalled time charged to a stall site since start (at most \(StallSite.kept) sites per executor; the rest are not exported).", sites)
        family("route_loop_held_seconds_total", "counter", "Time compute stages held an event loop or the cooperative pool over the threshold.", routes.map { (routeLabels($0), Double($0.held.totalMicros) / 1e6) })
        family("route_model_info", "gauge", "The route's current execution model (always 1).", routes.map { (routeLabels($0) + [("model", $0.model.rawValue)], 1) })
        family("diagnoses", "gauge", "Current diagnoses by severity.", [Diagnosis.Severity.info, .warning, .critical].map { sev in
            (server + [("severity", sev.rawValue)], Double(s.diagnoses.filter { $0.severity == sev }.count))
        })
        if let c = s.connections {
            family("connections_open", "gauge", "HTTP connections open now.", [(server, Double(c.open))])
            family("connections_limit", "gauge", "HTTP connections served at once; more are answered 503 and closed.", [(server, Double(c.limit))])
            family("connections_accepted_total", "counter", "HTTP connections accepted, refused ones included.", [(server, Double(c.accepted))])
            family("connections_closed_total", "counter", "HTTP connections the server closed itself, by reason.",
                   c.closed.map { (server + [("reason", $0.reason.rawValue)], Double($0.count)) })
        }
        family("self_recording_seconds_per_request", "gauge", "Mean time spent recording one request's figures.", [(server, s.selfCost.nanosPerRequest / 1e9)])
        family("self_statistics_bytes", "gauge", "Memory held by the statistics.", [(server, Double(s.selfCost.statisticsBytes))])
    }

    /// The histograms' bucket bounds, microseconds: 100 µs to 50 s on a 1-2-5 series (the
    /// snapshot's bucket series, so every bound counts exactly).
    public static let histogramBoundsMicros: [UInt64] = {
        var bounds: [UInt64] = []
        var decade: UInt64 = 100
        while decade <= 10_000_000 {
            bounds += [decade, decade * 2, decade * 5]
            decade *= 10
        }
        return bounds
    }()

    private static func quantiles(_ p: Percentiles) -> [(String, UInt64)] {
        [("50", p.p50), ("90", p.p90), ("99", p.p99), ("99.9", p.p999), ("100", p.max)]
    }

    private static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }

    private static func number(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return String(v)
    }
}
