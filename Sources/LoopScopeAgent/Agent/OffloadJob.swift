import Foundation

/// Work that can run in a worker process: a name and a function from one `Codable` value to
/// another. Offloaded with `agent.offload(job, input)`, it takes every placement of an offload
/// point — inline, threads — and also `processes`: the input is encoded (JSON), sent to a worker
/// process (the same executable, started in worker mode), run there, and the output sent back.
/// A job that crashes or leaks there takes only its worker with it.
///
/// Register every such job in the worker entry hook, first thing in `main`:
///
/// ```swift
/// let renderInvoice = OffloadJob("render-invoice") { (order: Order) in try Invoice.render(order) }
///
/// @main struct App {
///     static func main() async throws {
///         ProcessWorker.runIfRequested(offloading: [renderInvoice])   // returns unless a worker
///         …
///         let invoice = try await agent.offload(renderInvoice, order)
/// ```
public struct OffloadJob<Input: Codable & Sendable, Output: Codable & Sendable>: ProcessOffloadable {
    public let name: String
    public let body: @Sendable (Input) throws -> Output

    public init(_ name: String, _ body: @escaping @Sendable (Input) throws -> Output) {
        self.name = name
        self.body = body
    }

    /// The job as a worker process runs it: JSON input in the body, JSON output.
    public var computeJob: ComputeJob {
        let body = self.body
        return ComputeJob(name) { input in
            let value: Input
            do {
                value = try JSONDecoder().decode(Input.self, from: Data(input.body))
            } catch {
                throw JobError.badInput("cannot decode the input of \(name) as \(Input.self): \(error)")
            }
            return Array(try JSONEncoder().encode(try body(value)))
        }
    }

    func encode(_ input: Input) throws -> [UInt8] { Array(try JSONEncoder().encode(input)) }

    func decode(_ output: [UInt8]) throws -> Output { try JSONDecoder().decode(Output.self, from: Data(output)) }
}

/// An `OffloadJob` of any types, for the worker entry hook.
public protocol ProcessOffloadable: Sendable {
    var name: String { get }
    var computeJob: ComputeJob { get }
}

extension ProcessWorker {
    /// If this process was started as a pool worker, serves `jobs` until its parent closes the
    /// pipe or dies, then exits. Otherwise returns immediately.
    public static func runIfRequested(offloading jobs: [any ProcessOffloadable], arguments: [String] = CommandLine.arguments) {
        runIfRequested(jobs: jobs.map(\.computeJob), arguments: arguments)
    }

    /// Whether this process was started as a pool worker (then `runIfRequested` never returns).
    public static func isWorker(arguments: [String] = CommandLine.arguments) -> Bool {
        arguments.count >= 2 && arguments[1] == argument
    }
}
