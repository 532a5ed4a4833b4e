import Testing
@testable import LoopScopeAgent

/// The messages between the server and a worker process, without a process: what goes in
/// comes out, a job's failure keeps its own words, and truncated or unknown bytes are refused.
@Suite struct WorkerProtocolTests {
    @Test func aRequestRoundTripsWithItsParametersAndBody() throws {
        let input = JobInput(parameters: ["ms": "20", "name": "é ✓", "": ""], body: [0, 1, 2, 255])
        let bytes = WorkerProtocol.request(job: "report", input: input)
        let parsed = try #require(WorkerProtocol.parseRequest(bytes))
        #expect(parsed.job == "report" && parsed.input == input)
    }

    @Test func truncatedRequestsAndRepliesAreRefused() {
        let request = WorkerProtocol.request(job: "report", input: JobInput(parameters: ["ms": "20"], body: [1, 2, 3]))
        for n in 0..<min(request.count, 8) { #expect(WorkerProtocol.parseRequest(Array(request.prefix(n))) == nil, "\(n) bytes") }
        let reply = WorkerProtocol.reply(WorkerProtocol.Reply(status: .ok, cpuNanos: 7, wallNanos: 9, body: [42]))
        for n in 0..<17 { #expect(WorkerProtocol.parseReply(Array(reply.prefix(n))) == nil, "\(n) bytes") }
        #expect(WorkerProtocol.parseReply([9] + Array(reply.dropFirst())) == nil, "an unknown status")
    }

    @Test func aReplyCarriesTheOutcomeAndTheJobsOwnMessage() throws {
        for (outcome, status) in [(ComputeOutcome(result: .output([1, 2]), wallNanos: 5, cpuNanos: 4), WorkerProtocol.Status.ok),
                                  (ComputeOutcome(result: .failure(.badInput("ms must be 0...10000")), wallNanos: 5, cpuNanos: 1), .badInput),
                                  (ComputeOutcome(result: .failure(.failed("disk full")), wallNanos: 5, cpuNanos: 1), .failed)] {
            let reply = WorkerProtocol.reply(for: outcome)
            #expect(reply.status == status)
            let parsed = try #require(WorkerProtocol.parseReply(WorkerProtocol.reply(reply)))
            #expect(parsed == reply)
            // On the server: the same result, the job's CPU time, the server's own wall time.
            let back = WorkerProtocol.outcome(of: parsed, wallNanos: 99)
            #expect("\(back.result)" == "\(outcome.result)" && back.cpuNanos == outcome.cpuNanos && back.wallNanos == 99)
        }
    }
}
