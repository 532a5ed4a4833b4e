import NIOCore

/// The messages between the server and a worker process, inside `PipeIO` frames.
///
/// Request: u32-length-prefixed job name, then the encoded `JobInput`.
/// Reply: u8 status, u64 CPU nanoseconds, u64 wall nanoseconds, then the output (or the error message).
package enum WorkerProtocol {
    package enum Status: UInt8 {
        case ok = 0, badInput = 1, failed = 2, unknownJob = 3
    }

    package struct Reply: Equatable {
        var status: Status
        var cpuNanos: UInt64
        var wallNanos: UInt64
        var body: [UInt8]
    }

    package static func request(job: String, input: JobInput) -> [UInt8] {
        var out = ByteBuffer()
        out.writeInteger(UInt32(job.utf8.count))
        out.writeString(job)
        input.write(to: &out)
        return Array(out.readableBytesView)
    }

    package static func parseRequest(_ bytes: [UInt8]) -> (job: String, input: JobInput)? {
        var buffer = ByteBuffer(bytes: bytes)
        guard let name = buffer.readLengthPrefixedSlice(as: UInt32.self), let input = JobInput(reading: &buffer) else { return nil }
        return (String(buffer: name), input)
    }

    package static func reply(_ r: Reply) -> [UInt8] {
        var out = ByteBuffer()
        out.writeInteger(r.status.rawValue)
        out.writeInteger(r.cpuNanos)
        out.writeInteger(r.wallNanos)
        out.writeBytes(r.body)
        return Array(out.readableBytesView)
    }

    /// The reply for a job's outcome in the worker. A failure carries the job's own message,
    /// not its HTTP text: the server words it once (`outcome(of:wallNanos:)`).
    package static func reply(for outcome: ComputeOutcome) -> Reply {
        let (status, body): (Status, [UInt8])
        switch outcome.result {
        case .output(let bytes): (status, body) = (.ok, bytes)
        case .failure(.badInput(let m)): (status, body) = (.badInput, Array(m.utf8))
        case .failure(.failed(let m)): (status, body) = (.failed, Array(m.utf8))
        case .failure(let other): (status, body) = (.failed, Array(other.message.utf8)) // not produced by a job's run
        }
        return Reply(status: status, cpuNanos: outcome.cpuNanos ?? 0, wallNanos: outcome.wallNanos, body: body)
    }

    /// The outcome a worker's reply stands for, on the server; `wallNanos` as the server timed it.
    package static func outcome(of reply: Reply, wallNanos: UInt64) -> ComputeOutcome {
        let message = String(decoding: reply.body, as: UTF8.self)
        let result: ComputeOutcome.Result
        switch reply.status {
        case .ok: result = .output(reply.body)
        case .badInput: result = .failure(.badInput(message))
        case .failed, .unknownJob: result = .failure(.failed(message))
        }
        return ComputeOutcome(result: result, wallNanos: wallNanos, cpuNanos: reply.cpuNanos)
    }

    package static func parseReply(_ bytes: [UInt8]) -> Reply? {
        var buffer = ByteBuffer(bytes: bytes)
        guard let raw = buffer.readInteger(as: UInt8.self), let status = Status(rawValue: raw),
              let cpu = buffer.readInteger(as: UInt64.self), let wall = buffer.readInteger(as: UInt64.self) else { return nil }
        return Reply(status: status, cpuNanos: cpu, wallNanos: wall, body: buffer.readBytes(length: buffer.readableBytes) ?? [])
    }
}
