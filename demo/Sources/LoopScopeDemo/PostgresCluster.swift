#if canImport(Glibc)
import Glibc
#endif
import Foundation
import LoopScopeAgent

/// A private PostgreSQL cluster from Debian's `postgresql` package: `initdb` in a temporary
/// directory, the server listening only on a Unix socket in that directory (no TCP port), a
/// superuser `loopscope` trusted on that socket, a seeded `orders` table. It is a child
/// process watching its standard input: when this process exits, even by `kill -9`, the
/// server gets a fast shutdown and its directory is removed. `stop()` does the same and waits.
///
/// As root (PostgreSQL refuses to run as root) the cluster belongs to the `postgres` user
/// the package creates, and its commands run through `runuser`.
public final class PostgresCluster: Sendable {
    /// The directory holding the server's socket (`host` for clients).
    public let socketDirectory: String
    /// The socket itself, for clients that take a path.
    public var socketPath: String { socketDirectory + "/.s.PGSQL.5432" }
    public let user = "loopscope"
    public let database = "postgres"
    /// Rows of the seeded `orders` table (ids 1…`orders`).
    public static let orders = 10_000

    private let directory: String
    private let server: ChildProcess

    private init(directory: String, server: ChildProcess) {
        self.directory = directory
        self.socketDirectory = directory
        self.server = server
    }

    /// Creates, starts and seeds a cluster; throws with what to do when PostgreSQL is missing,
    /// and with the server's log when it does not come up within `timeoutSeconds`.
    public static func start(timeoutSeconds: Double = 60) async throws -> PostgresCluster {
        let bin = try binaries()
        var template = Array((NSTemporaryDirectory() + "loopscope-pg-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw DemoDatabaseError("mkdtemp: \(String(cString: strerror(errno)))") }
        let directory = String(cString: made)
        do {
            let owner = try owner()
            if let owner { _ = chown(directory, owner.uid, owner.gid) }
            let asOwner: [String] = owner == nil ? [] : ["/usr/sbin/runuser", "-u", "postgres", "--"]
            try run(asOwner + [bin + "/initdb", "-D", directory + "/data", "-U", "loopscope", "--auth=trust", "--no-sync",
                               "-E", "UTF8", "--locale=C"], log: directory + "/initdb.log")
            // The shell waits on its input; at its end (we stopped or died) the server gets a
            // fast shutdown (SIGINT), and once it has finished the shell removes the directory.
            let script = "\"$0\" -D \"$1\" -k \"$2\" -c listen_addresses= -c fsync=off -c synchronous_commit=off -c max_connections=200 & p=$!; "
                + "trap 'kill -INT $p' TERM; cat >/dev/null; kill -INT $p; wait $p; rm -rf \"$2\""
            let argv = asOwner + ["/bin/sh", "-c", script, bin + "/postgres", directory + "/data", directory]
            let server = try ChildProcess.spawn(argv[0], Array(argv.dropFirst()), logPath: directory + "/server.log")
            let cluster = PostgresCluster(directory: directory, server: server)
            do {
                try await cluster.waitUntilReady(bin: bin, timeoutSeconds: timeoutSeconds)
                try run([bin + "/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", directory, "-U", "loopscope", "-d", "postgres", "-c", Self.seed],
                        log: directory + "/seed.log")
            } catch {
                cluster.stop()
                throw error
            }
            return cluster
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
    }

    /// The seed: a table of orders the demo's queries read by id.
    static let seed = """
        CREATE TABLE orders (id integer PRIMARY KEY, customer text NOT NULL, total_cents integer NOT NULL);
        INSERT INTO orders SELECT i, 'customer ' || (i % 97), (i * 7919) % 100000 FROM generate_series(1, \(orders)) AS i;
        ANALYZE orders;
        """

    /// Shuts the server down (fast shutdown, then SIGKILL after 10 s) and removes its directory.
    public func stop() {
        server.stop(graceSeconds: 10)
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func waitUntilReady(bin: String, timeoutSeconds: Double) async throws {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            guard server.isRunning else { throw DemoDatabaseError("PostgreSQL exited at start:\n\(server.logTail())") }
            if FileManager.default.fileExists(atPath: socketPath),
               (try? Self.run([bin + "/pg_isready", "-q", "-h", directory, "-U", "loopscope"], log: directory + "/isready.log")) != nil {
                return
            }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        throw DemoDatabaseError("PostgreSQL did not accept connections within \(Int(timeoutSeconds)) s:\n\(server.logTail())")
    }

    /// The newest installed PostgreSQL's programs.
    static func binaries() throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted()
        guard let v = versions.last(where: { FileManager.default.isExecutableFile(atPath: "\(root)/\($0)/bin/initdb") }) else {
            throw DemoDatabaseError("PostgreSQL is not installed (no \(root)/*/bin/initdb): apt-get install postgresql, or run .ci/install-deps")
        }
        return "\(root)/\(v)/bin"
    }

    /// The `postgres` user's ids when running as root (nil otherwise).
    static func owner() throws -> (uid: uid_t, gid: gid_t)? {
        guard geteuid() == 0 else { return nil }
        guard let pw = getpwnam("postgres") else { throw DemoDatabaseError("running as root, PostgreSQL needs the 'postgres' user, which Debian's postgresql package creates: apt-get install postgresql") }
        return (pw.pointee.pw_uid, pw.pointee.pw_gid)
    }

    /// Runs a command to its end; throws with its log when it fails or runs past 60 s.
    static func run(_ argv: [String], log: String) throws {
        let child = try ChildProcess.spawn(argv[0], Array(argv.dropFirst()), logPath: log)
        child.closeInput()
        let deadline = Date().addingTimeInterval(60)
        var status: Int32 = 0
        while true {
            let r = waitpid(child.pid, &status, WNOHANG)
            if r == child.pid { break }
            if Date() > deadline {
                kill(child.pid, SIGKILL)
                waitpid(child.pid, &status, 0)
                throw DemoDatabaseError("\(argv.joined(separator: " ")) ran past 60 s")
            }
            usleep(10_000)
        }
        guard status == 0 else { throw DemoDatabaseError("\(argv.joined(separator: " ")) failed (status \(status)):\n\(child.logTail())") }
    }
}

/// Why the demo's database could not be set up.
public struct DemoDatabaseError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
