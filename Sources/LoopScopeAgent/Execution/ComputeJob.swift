/// A named, synchronous unit of work: a route's compute stage.
///
/// Jobs are registered by name so a worker process (the same executable) can run them too.
/// `run` may be called on any thread, in the server or in a worker process.
public struct ComputeJob: Sendable {
    public let name: String
    public let run: @Sendable (JobInput) throws -> [UInt8]

    public init(_ name: String, run: @escaping @Sendable (JobInput) throws -> [UInt8]) {
        self.name = name
        self.run = run
    }
}

/// What a compute stage receives: the request's parameters (query and path) and body bytes.
public struct JobInput: Sendable, Equatable {
    public var parameters: [String: String]
    public var body: [UInt8]

    public init(parameters: [String: String] = [:], body: [UInt8] = []) {
        self.parameters = parameters
        self.body = body
    }

    /// An integer parameter within `range`, `default` when absent; throws a 400 when invalid.
    public func integer(_ name: String, default value: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let raw = parameters[name] else { return value }
        guard let n = Int(raw), range.contains(n) else {
            throw JobError.badInput("\(name) must be an integer in \(range.lowerBound)...\(range.upperBound), got '\(raw)'")
        }
        return n
    }
}

/// Errors a compute stage may throw; anything else counts as an internal error (500).
public enum JobError: Error, Sendable, Equatable {
    /// The request's input is invalid: answered 400 with the message.
    case badInput(String)
    /// The job failed: answered 500 with the message.
    case failed(String)
}
