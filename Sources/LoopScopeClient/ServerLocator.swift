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

    static func describe(_ servers: [ServerAnnouncement]) -> String {
        servers.map { "  \($0.pid)  \($0.name)  \($0.address)  \($0.socket)" }.joined(separator: "\n")
    }
}
