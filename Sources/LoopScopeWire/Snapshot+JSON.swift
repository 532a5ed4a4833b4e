/// The snapshot's hand-written JSON encoding (several times faster than `JSONEncoder`); the
/// same keys and shapes as its `Codable` conformance, so any JSON decoder reads it.
extension Snapshot {
    /// The snapshot as one JSON document, without a trailing newline.
    public func json() -> [UInt8] {
        var w = JSONWriter(capacity: 2048 + routes.count * 1800)
        write(&w)
        return w.bytes
    }

    func write(_ w: inout JSONWriter) {
        w.beginObject()
        w.key("schema"); w.value(schema)
        w.key("sequence"); w.value(sequence)
        w.key("time"); w.value(time)
        w.key("server"); server.write(&w)
        w.key("loops"); w.beginArray(); for l in loops { l.write(&w) }; w.endArray()
        w.key("tasks"); tasks.write(&w)
        w.key("pools"); w.beginArray(); for p in pools { p.write(&w) }; w.endArray()
        w.key("routes"); w.beginArray(); for r in routes { r.write(&w) }; w.endArray()
        w.key("events"); w.beginArray(); for e in events { e.write(&w) }; w.endArray()
        w.key("eventsDropped"); w.value(eventsDropped)
        w.key("diagnoses"); w.beginArray(); for d in diagnoses { d.write(&w) }; w.endArray()
        w.key("selfCost"); selfCost.write(&w)
        w.endObject()
    }
}

extension ServerInfo {
    func write(_ w: inout JSONWriter) {
        w.beginObject()
        w.key("name"); w.value(name)
        w.key("pid"); w.value(pid)
        w.key("startedAt"); w.value(startedAt)
        w.key("uptimeSeconds"); w.value(uptimeSeconds)
        w.key("address"); w.value(address)
        w.key("instrumented"); w.value(instrumented)
        w.key("cores"); w.value(cores)
        w.endObject()
    }
}

extension Percentiles {
    func write(_ w: inout JSONWriter) {
        w.beginObject()
        w.key("count"); w.value(count)
        w.key("p50"); w.value(p50)
        w.key("p90"); w.value(p90)
        w.key("p99"); w.value(p99)
        w.key("p999"); w.value(p999)
        w.key("max"); w.value(max)
        w.key("mean"); w.value(mean)
        w.endObject()
    }
}

extension WindowedPercentiles {
    func write(_ w: inout JSONWriter) {
        w.beginObject()
        w.key("last1s"); last1s.write(&w)
        w.key("last10s"); last10s.write(&w)
        w.endObject()
    }
}

extension LoopFigures {
    func write(_ w: inout JSONWriter) {
        w.beginObject()
        w.key("name"); w.value(name)
        w.key("lag"); lag.write(&w)
        w.key("stalls"); w.value(stalls)
        if let culprit { w.key("culprit"); w.value(culprit) }
        w.key("culpritHeldMicros"); w.value(culpritHeldMicros)
        w.key("lagHistory"); w.values(lagHistory)
        if let s = stallInProgress {
            w.key("stallInProgress"); w.beginObject()
            if let r = s.route { w.key("route"); w.value(r) }
            w.key("heldMicros"); w.value(s.heldMicros)
            w.endObject()
        }
        w.endObject()
    }
}

extension PoolFigures {
    func write(_ w: inout JSONWriter) {
        w.beginObject()
        w.key("name"); w.value(name)
        w.key("kind"); w.value(kind)
        w.key("size"); w.value(size)
        w.key("live"); w.value(live)
        w.key("busy"); w.value(busy)
        w.key("queued"); w.value(queued)
        w.key("queueLimit"); w.value(queueLimit)
        w.key("completed"); w.value(completed)
        w.key("rejected"); w.value(rejected)
        w.key("failed"); w.value(failed)
        w.key("completedPerSecond"); w.value(completedPerSecond)
        w.key("queueWait"); queueWait.write(&w)
        w.key("runTime"); runTime.write(&w)
        w.key("queueHistory"); w.values(queueHistory)
        w.key("workers"); w.beginArray()
        for x in workers {
            w.beginObject()
            w.key("pid"); w.value(x.pid)
            w.key("jobsDone"); w.value(x.jobsDone)
            w.key("restarts"); w.value(x.restarts)
            w.key("residentBytes"); w.value(x.residentBytes)
            w.key("busy"); w.value(x.busy)
            w.endObject()
        }
        w.endArray()
        w.endObject()
    }
}

extension RouteFigures {
    func write(_ w: inout JSONWriter) {
        w.beginObject()
        w.key("method"); w.value(method)
        w.key("path"); w.value(path)
        w.key("model"); w.value(model.rawValue)
        w.key("requests"); w.value(requests)
        w.key("inFlight"); w.value(inFlight)
        w.key("rate1s"); w.value(rate1s)
        w.key("rate10s"); w.value(rate10s)
        w.key("status"); w.beginObject()
        w.key("s2xx"); w.value(status.s2xx)
        w.key("s3xx"); w.value(status.s3xx)
        w.key("s4xx"); w.value(status.s4xx)
        w.key("s5xx"); w.value(status.s5xx)
        w.endObject()
        w.key("latency"); latency.write(&w)
        w.key("p99History"); w.values(p99History)
        w.key("rateHistory"); w.values(rateHistory)
        w.key("split"); w.beginObject()
        w.key("queueMicros"); w.value(split.queueMicros)
        w.key("computeMicros"); w.value(split.computeMicros)
        w.key("ioMicros"); w.value(split.ioMicros)
        w.endObject()
        w.key("compute"); w.beginObject()
        w.key("wallMicros"); w.value(compute.wallMicros)
        w.key("cpuMicros"); w.value(compute.cpuMicros)
        w.key("samples"); w.value(compute.samples)
        w.endObject()
        w.key("workClass"); w.value(workClass.rawValue)
        w.key("held"); w.beginObject()
        w.key("count"); w.value(held.count)
        w.key("totalMicros"); w.value(held.totalMicros)
        w.key("perRequestMicros"); w.value(held.perRequestMicros)
        w.endObject()
        w.key("histogram"); w.beginArray()
        for b in histogram {
            w.beginObject()
            w.key("upToMicros"); w.value(b.upToMicros)
            w.key("count"); w.value(b.count)
            w.endObject()
        }
        w.endArray()
        w.endObject()
    }
}

extension ControlEvent {
    func write(_ w: inout JSONWriter) {
        w.beginObject()
        w.key("sequence"); w.value(sequence)
        w.key("time"); w.value(time)
        w.key("kind"); w.value(kind.rawValue)
        w.key("subject"); w.value(subject)
        w.key("old"); w.value(old)
        w.key("new"); w.value(new)
        w.key("actor"); w.value(actor)
        w.endObject()
    }
}

extension Diagnosis {
    func write(_ w: inout JSONWriter) {
        w.beginObject()
        w.key("id"); w.value(id)
        w.key("severity"); w.value(severity.rawValue)
        w.key("summary"); w.value(summary)
        w.key("evidence"); w.values(evidence)
        if let action {
            w.key("action"); w.beginObject()
            switch action {
            case .reroute(let route, let model):
                w.key("reroute"); w.beginObject(); w.key("route"); w.value(route); w.key("model"); w.value(model.rawValue); w.endObject()
            case .resize(let pool, let size):
                w.key("resize"); w.beginObject(); w.key("pool"); w.value(pool); w.key("size"); w.value(size); w.endObject()
            case .limit(let pool, let limit):
                w.key("limit"); w.beginObject(); w.key("pool"); w.value(pool); w.key("limit"); w.value(limit); w.endObject()
            }
            w.endObject()
        }
        w.endObject()
    }
}

extension SelfCost {
    func write(_ w: inout JSONWriter) {
        w.beginObject()
        w.key("nanosPerRequest"); w.value(nanosPerRequest)
        w.key("statisticsBytes"); w.value(statisticsBytes)
        w.key("framesDropped"); w.value(framesDropped)
        w.key("snapshotMicros"); w.value(snapshotMicros)
        w.endObject()
    }
}
