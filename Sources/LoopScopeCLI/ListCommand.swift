import ArgumentParser
import Foundation
import LoopScopeWire

/// `loopscope list`: running servers this user can attach to.
struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List running LoopScope servers you can attach to.")

    @Option(help: "Directory where servers announce their sockets.") var controlDir: String?
    @Flag(help: "Print JSON instead of a table.") var json = false

    func run() throws {
        let directory = controlDir ?? SocketDirectory.defaultPath()
        let servers = SocketDirectory.list(directory)
        if json {
            print(String(decoding: WireCodec().encode(servers), as: UTF8.self))
            return
        }
        guard !servers.isEmpty else {
            print("no running servers in \(directory)")
            return
        }
        let now = Date().timeIntervalSince1970
        // Workers of a group (`serve --workers N`) together, in worker order.
        let sorted = servers.sorted { ($0.member?.group ?? "", $0.member?.worker ?? 0, $0.pid) < ($1.member?.group ?? "", $1.member?.worker ?? 0, $1.pid) }
        print("PID      NAME                 UPTIME      ADDRESS               GROUP                      SOCKET")
        for s in sorted {
            let group = s.member.map { "\($0.group) \($0.worker + 1)/\($0.size)" } ?? "-"
            print(Units.padRight(String(s.pid), 9) + Units.padRight(s.name, 21) + Units.padRight(Units.uptime(now - s.startedAt), 12) + Units.padRight(s.address, 22) + Units.padRight(group, 27) + s.socket)
        }
    }
}
