import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The small JSON file a server writes beside its control socket so `loopscope list` can find it.
public struct ServerAnnouncement: Codable, Sendable, Equatable, PublicMemberwiseInit {
    public var name: String
    public var pid: Int32
    public var socket: String
    /// HTTP address, `host:port`.
    public var address: String
    /// Seconds since the Unix epoch.
    public var startedAt: Double
    /// Set when the server is one worker of a group (`serve --workers N`).
    public var member: GroupMember?

    /// Whether the announcing process is still alive.
    public var isAlive: Bool { kill(pid, 0) == 0 || errno == EPERM }

    private init(_ generated: Never) { switch generated {} }
}

/// A server's place in a group of worker processes sharing one port (`serve --workers N`).
public struct GroupMember: Codable, Sendable, Equatable, PublicMemberwiseInit {
    /// The group: its supervisor's name and pid, `demo-app/4242`.
    public var group: String
    /// This worker's index in the group, 0..<`size`.
    public var worker: Int
    public var size: Int

    /// `demo-app/4242 worker 1 of 2`.
    public var description: String { "\(group) worker \(worker) of \(size)" }

    private init(_ generated: Never) { switch generated {} }
}

/// The per-user directory that holds control sockets, and the rules that keep it private.
public enum SocketDirectory {
    /// `$XDG_RUNTIME_DIR/loopscope` when that is set, else `/tmp/loopscope-<uid>`.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let xdg = environment["XDG_RUNTIME_DIR"], !xdg.isEmpty { return xdg + "/loopscope" }
        return "/tmp/loopscope-\(getuid())"
    }

    /// Creates the directory if needed (mode 0700) and checks it is a real directory owned by
    /// this user that no one else can write. Throws a message a user can act on.
    public static func prepare(_ path: String, groupReadable gid: UInt32? = nil) throws(WireError) {
        var st = stat()
        if lstat(path, &st) != 0 {
            guard mkdir(path, 0o700) == 0 || errno == EEXIST else {
                throw WireError(.unavailable, "cannot create \(path): \(String(cString: strerror(errno)))")
            }
            guard lstat(path, &st) == 0 else { throw WireError(.unavailable, "cannot inspect \(path)") }
        }
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
            throw WireError(.forbidden, "\(path) is not a directory (a symlink or file is there); remove it or choose another directory")
        }
        guard st.st_uid == getuid() else {
            throw WireError(.forbidden, "\(path) belongs to uid \(st.st_uid), not to you (uid \(getuid())); refusing to use it")
        }
        if let gid {
            chown(path, uid_t.max, gid)
            chmod(path, 0o710)
        } else if (st.st_mode & 0o077) != 0 {
            chmod(path, 0o700)
        }
    }

    /// Announced servers in `directory`, alive ones only, oldest first. Reads only.
    public static func list(_ directory: String = defaultPath()) -> [ServerAnnouncement] {
        announcements(in: directory).filter { $0.announcement.isAlive }.map(\.announcement).sorted { $0.startedAt < $1.startedAt }
    }

    /// Deletes the announcement and socket files of servers that are gone (a server starting
    /// its control socket does this).
    public static func removeDead(in directory: String = defaultPath()) {
        for (path, a) in announcements(in: directory) where !a.isAlive {
            unlink(path)
            unlink(a.socket)
        }
    }

    private static func announcements(in directory: String) -> [(path: String, announcement: ServerAnnouncement)] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        return names.filter { $0.hasSuffix(".json") }.compactMap { name in
            let path = directory + "/" + name
            guard let data = FileManager.default.contents(atPath: path),
                  let a = try? JSONDecoder().decode(ServerAnnouncement.self, from: data) else { return nil }
            return (path, a)
        }
    }
}
