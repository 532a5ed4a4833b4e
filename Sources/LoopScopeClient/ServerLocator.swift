import LoopScopeWire

/// Finds the control socket to attach to: by path, pid, name, or the only running server.
public enum ServerLocator {
    /// - Parameter target: nil for the only running server; a path (contains `/`); a pid; or a name.
    public static func resolve(_ target: String?, directory: String = SocketDirectory.defaultPath()) throws(ClientError) -> String {
        if let target, target.contains("/") { return target }
        let servers = SocketDirectory.list(directory)
        guard let target else {
            switch servers.count {
            case 0: throw .notFound("no running LoopScope server found in \(directory); start one with `loopscope serve`")
            case 1: return servers[0].socket
            default:
                throw .notFound("\(servers.count) servers are running; name one (pid, name or socket path):\n" + describe(servers))
            }
        }
        let matches = servers.filter { String($0.pid) == target || $0.name == target }
        switch matches.count {
        case 1: return matches[0].socket
        case 0: throw .notFound("no running server matches '\(target)'" + (servers.isEmpty ? "" : "; running:\n" + describe(servers)))
        default: throw .notFound("'\(target)' matches \(matches.count) servers; use a pid:\n" + describe(matches))
        }
    }

    /// The running workers of `group` (`demo-app/4242`, as `loopscope list` shows it), in
    /// worker order; throws `notFound`, naming the groups that are running, when it has none.
    public static func members(of group: String, directory: String = SocketDirectory.defaultPath()) throws(ClientError) -> [ServerAnnouncement] {
        let servers = SocketDirectory.list(directory)
        let members = servers.filter { $0.member?.group == group }.sorted { ($0.member?.worker ?? 0) < ($1.member?.worker ?? 0) }
        guard !members.isEmpty else {
            let groups = Set(servers.compactMap { $0.member?.group }).sorted()
            throw .notFound("no running workers of group '\(group)' in \(directory)" + (groups.isEmpty ? "" : "; groups: \(groups.joined(separator: ", "))"))
        }
        return members
    }

    /// The socket of worker `index` of `group`: the live one announced with that index (a
    /// restarted worker announces a new socket under the same index).
    public static func member(_ index: Int, of group: String, directory: String = SocketDirectory.defaultPath()) throws(ClientError) -> String {
        guard let m = try members(of: group, directory: directory).first(where: { $0.member?.worker == index }) else {
            throw .notFound("worker \(index) of \(group) is not running")
        }
        return m.socket
    }

    static func describe(_ servers: [ServerAnnouncement]) -> String {
        servers.map { "  \($0.pid)  \($0.name)  \($0.address)  \($0.socket)" }.joined(separator: "\n")
    }
}
