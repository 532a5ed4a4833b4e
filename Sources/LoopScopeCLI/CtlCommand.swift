import ArgumentParser
import LoopScopeClient
import LoopScopeWire

/// `loopscope ctl`: change a running server from scripts.
struct CtlCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ctl",
        abstract: "Change a running server: move a route, resize a pool, set a queue limit, apply a diagnosis, set the stall threshold.",
        subcommands: [Route.self, Resize.self, Limit.self, Fix.self, StallThreshold.self, Events.self]
    )

    struct Route: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Move a route's compute stage to another execution model.")
        @OptionGroup var target: TargetOptions
        @Argument(help: "Route template, e.g. /hash.") var route: String
        @Argument(help: "loop, task, threads or processes.") var model: ExecutionModel
        @Option(help: "HTTP method of the route.") var method = "GET"

        func run() async throws {
            try await CtlCommand.execute(target, .route(method: method.uppercased(), path: route, model: model))
        }
    }

    struct Resize: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set the number of workers of a pool.")
        @OptionGroup var target: TargetOptions
        @Argument(help: "Pool name: threads, processes, db.") var pool: String
        @Argument(parsing: .allUnrecognized, help: "New size (1...256).") var size: [String] = []

        func validate() throws { _ = try CtlCommand.integer(size, "size") }

        func run() async throws { try await CtlCommand.execute(target, .resize(pool: pool, size: try CtlCommand.integer(size, "size"))) }
    }

    struct Limit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set how many jobs may wait in a pool's queue.")
        @OptionGroup var target: TargetOptions
        @Argument(help: "Pool name.") var pool: String
        @Argument(parsing: .allUnrecognized, help: "New queue limit (1...1000000).") var limit: [String] = []

        func validate() throws { _ = try CtlCommand.integer(limit, "limit") }

        func run() async throws { try await CtlCommand.execute(target, .limit(pool: pool, limit: try CtlCommand.integer(limit, "limit"))) }
    }

    struct Fix: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply the action of a current diagnosis (see `loopscope dump --format table`).")
        @OptionGroup var target: TargetOptions
        @Argument(help: "Diagnosis id, e.g. cpu-on-loop:/hash.") var diagnosis: String

        func run() async throws { try await CtlCommand.execute(target, .fix(diagnosis: diagnosis)) }
    }

    struct StallThreshold: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "stall-threshold",
            abstract: "Set how long a loop or the cooperative pool must be busy before its threads' stacks are sampled (stall sites)."
        )
        @OptionGroup var target: TargetOptions
        @Argument(parsing: .allUnrecognized, help: "Milliseconds (1...10000).") var milliseconds: [String] = []

        func validate() throws { _ = try CtlCommand.integer(milliseconds, "milliseconds") }

        func run() async throws {
            try await CtlCommand.execute(target, .stallThreshold(millis: try CtlCommand.integer(milliseconds, "milliseconds")))
        }
    }

    struct Events: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the server's event log.")
        @OptionGroup var target: TargetOptions
        @Option(parsing: .unconditional, help: "Only events after this sequence number.") var since: UInt64 = 0

        func run() async throws {
            let client = try await target.connect()
            defer { Task { await client.close() } }
            let result = try await client.send(.events(since: since))
            for e in result.events ?? [] {
                print("\(e.sequence)  \(Units.clock(e.time))  \(e.summary)  (\(e.actor))")
            }
        }
    }

    /// Sends one command, prints the outcome; a server error exits non-zero with its message.
    /// With `--group`, to every worker of the group, one line each; non-zero when any failed.
    static func execute(_ target: TargetOptions, _ command: Command) async throws {
        if target.group != nil {
            let members = try target.groupMembers()
            let outcomes = await FanOut.run(Array(members.indices)) { i in
                let client = try await ControlClient.connect(path: members[i].socket)
                do {
                    let result = try await client.send(command)
                    await client.close()
                    return result
                } catch {
                    await client.close()
                    throw error
                }
            }
            var failed: [String] = []
            for (i, outcome) in outcomes {
                let who = "worker \(members[i].member?.worker ?? i) (pid \(members[i].pid))"
                switch outcome {
                case .success(let result): print("\(who): \(result.message ?? "ok")")
                case .failure(let error):
                    print("\(who): failed: \(error)")
                    failed.append(who)
                }
            }
            if !failed.isEmpty { throw CLIError("\(failed.count) worker(s) failed: \(failed.joined(separator: ", "))") }
            return
        }
        let client = try await target.connect()
        do {
            let result = try await client.send(command)
            print(result.message ?? "ok")
            await client.close()
        } catch {
            await client.close()
            throw CLIError("\(error)")
        }
    }

    /// One integer argument; negative numbers are accepted here so the server can say why they are refused.
    static func integer(_ values: [String], _ name: String) throws -> Int {
        guard values.count == 1 else { throw ValidationError("give exactly one \(name)") }
        guard let n = Int(values[0]) else { throw ValidationError("\(name) must be an integer, got '\(values[0])'") }
        return n
    }

}

extension ExecutionModel: ExpressibleByArgument {}
