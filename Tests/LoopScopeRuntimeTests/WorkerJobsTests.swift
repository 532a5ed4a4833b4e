import Testing
import LoopScopeDemo
@testable import LoopScopeRuntime
@testable import LoopScopeAgent
import LoopScopeWire

/// A route whose job the worker processes do not serve is refused when it is placed in
/// processes — at start or when moved there — instead of failing every request there with
/// "no job named …".
@Suite(.serialized) struct WorkerJobsTests {
    /// What `loopscope`'s main registers; registered here too, as a server executable would.
    static func registerTheDemoJobs() {
        ProcessWorker.runIfRequested(jobs: DemoJobs.all, arguments: ["test"])
    }

    @Test func aRouteInProcessesWhoseJobTheWorkersDoNotServeIsRefusedAtStart() throws {
        Self.registerTheDemoJobs()
        let user = ComputeJob("user") { _ in [] }
        var c = ServerConfiguration()
        c.port = 0
        #expect(throws: RuntimeError.self) {
            _ = try LoopScopeServer(configuration: c, routes: [try Route("/users/:id", model: .processes, job: user)])
        }
        do {
            _ = try LoopScopeServer(configuration: c, routes: [try Route("/users/:id", model: .processes, job: user)])
        } catch {
            #expect("\(error)".contains("its job 'user' is not served by the worker processes"), "\(error)")
        }
    }

    @Test func movingARouteToProcessesIsRefusedWhenItsJobIsNotServed() {
        Self.registerTheDemoJobs()
        let c = ServerConfiguration()
        #expect(RuntimeCore.unservedInWorkers(ComputeJob("user") { _ in [] }, c) != nil)
        #expect(RuntimeCore.unservedInWorkers(DemoJobs.hash, c) == nil)
        // Workers that are another executable: their jobs are not known here, nothing is refused.
        var other = c
        other.workerCommand = WorkerCommand(executable: "/usr/bin/elsewhere")
        #expect(RuntimeCore.unservedInWorkers(ComputeJob("user") { _ in [] }, other) == nil)
    }
}
