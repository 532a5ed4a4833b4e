import Foundation
import NIOPosix
import Testing
@testable import LoopScopeAgent
import LoopScopeDemo
import LoopScopeWire

/// An `OffloadJob` (Codable in and out) moves, live, from inline to a worker process and back;
/// a closure offload point cannot go there.
@Suite(.serialized) struct ProcessOffloadTests {
    @Test func aCodableOffloadPointMovesToAWorkerProcessAndBack() async throws {
        var config = AgentConfiguration(name: "process-offload-test")
        config.control = nil
        config.offloadProcesses = 1
        // The loopscope executable serves the demo's jobs, render-invoice among them.
        config.offloadWorkerCommand = WorkerCommand(executable: TestBinaries.loopscope)
        let agent = try await LoopScopeAgent.start(config, watching: MultiThreadedEventLoopGroup.singleton)
        var failure: (any Error)? = nil
        do {
            let order = InvoiceOrder(id: "42", milliseconds: 2)
            let inline = try await agent.offload(DemoJobs.renderInvoice, order)
            #expect(inline.renderedBy == getpid() && inline.id == "42")

            _ = try agent.core.setModel(method: OffloadPoints.method, path: "render-invoice", model: .processes, actor: "test")
            let remote = try await agent.offload(DemoJobs.renderInvoice, order)
            let workers = agent.core.offloadProcessPool?.workerPIDs ?? []
            #expect(workers.contains(remote.renderedBy), "rendered by \(remote.renderedBy), the workers are \(workers)")
            #expect(remote.id == "42", "the input crossed as JSON and the output came back")

            agent.core.rollover()
            let s = agent.snapshot()
            #expect(s.route("render-invoice", method: OffloadPoints.method)?.model == .processes)
            #expect(s.route("render-invoice", method: OffloadPoints.method)?.requests == 2)
            #expect(s.pool("processes")?.completed == 1)

            _ = try agent.core.setModel(method: OffloadPoints.method, path: "render-invoice", model: .task, actor: "test")
            #expect(try await agent.offload(DemoJobs.renderInvoice, order).renderedBy == getpid())

            // A closure cannot cross to another process.
            _ = try await agent.offload("closure-point") { 1 }
            #expect(throws: WireError.self) {
                try agent.core.setModel(method: OffloadPoints.method, path: "closure-point", model: .processes, actor: "test")
            }
        } catch {
            failure = error
        }
        await agent.stop()
        if let failure { throw failure }
    }

    @Test func withoutAProcessPoolTheProcessesPlacementIsRefusedWithWhy() async throws {
        var config = AgentConfiguration(name: "no-process-pool-test")
        config.control = nil
        let agent = try await LoopScopeAgent.start(config, watching: MultiThreadedEventLoopGroup.singleton)
        _ = try? await agent.offload(DemoJobs.renderInvoice, InvoiceOrder(id: "1", milliseconds: 0))
        do {
            _ = try agent.core.setModel(method: OffloadPoints.method, path: "render-invoice", model: .processes, actor: "test")
            Issue.record("moved to processes without a process pool")
        } catch {
            #expect("\(error)".contains("offloadProcesses"), "\(error)")
        }
        await agent.stop()
    }
}
