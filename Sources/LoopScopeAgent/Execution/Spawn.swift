#if canImport(Glibc)
import Glibc
#endif
import CLoopScopeSys

/// Starts a process the one way LoopScope starts any (worker processes, a group's workers,
/// the Hummingbird demo, PostgreSQL): `posix_spawn` with this process's environment plus
/// `environment`, and no descriptor of this process beyond the three it is given — NIO's
/// accepted sockets are not close-on-exec, and a child holding one would keep a client's
/// connection open after the server closed it — and with every signal at its default action
/// and none blocked: a process that catches SIGTERM through dispatch has it ignored, and a
/// child would inherit that, losing a SIGTERM that came before its own handler.
package enum Spawn {
    /// What one of the child's standard descriptors is.
    package enum Stdio {
        /// This process's own.
        case inherit
        /// A descriptor of this process (the child's end of a pipe; the caller closes its copy).
        case descriptor(Int32)
        /// A file, created or truncated, written only by the child (standard output).
        case file(String)
        /// The same as the child's standard output (standard error).
        case output
    }

    /// Starts `executable` (a path) with `arguments` (not counting argv[0]); returns its pid.
    package static func start(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                              stdin: Stdio = .inherit, stdout: Stdio = .inherit, stderr: Stdio = .inherit) throws(SpawnError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (fd, io) in [(Int32(0), stdin), (1, stdout), (2, stderr)] {
            switch io {
            case .inherit: break
            case .descriptor(let d): posix_spawn_file_actions_adddup2(&actions, d, fd)
            case .file(let path): posix_spawn_file_actions_addopen(&actions, fd, path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            case .output: posix_spawn_file_actions_adddup2(&actions, 1, fd)
            }
        }
        _ = loopscope_spawn_close_from(&actions, 3)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t(), none = sigset_t()
        sigfillset(&all)
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        var env: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let text = String(cString: entry)
            if let eq = text.firstIndex(of: "=") { env[String(text[..<eq])] = String(text[text.index(after: eq)...]) }
            p += 1
        }
        for (k, v) in environment { env[k] = v }
        var pid: pid_t = 0
        let rc = withCStrings([executable] + arguments) { argv in
            withCStrings(env.map { "\($0.key)=\($0.value)" }) { envp in posix_spawn(&pid, executable, &actions, &attributes, argv, envp) }
        }
        guard rc == 0 else { throw SpawnError("cannot start \(executable): \(String(cString: strerror(rc)))") }
        return pid
    }

    /// A pipe whose ends are both close-on-exec (the child gets its end through `Stdio`).
    package static func pipe() throws(SpawnError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        guard loopscope_pipe_cloexec(&fds) == 0 else { throw SpawnError("pipe: \(String(cString: strerror(errno)))") }
        return (fds[0], fds[1])
    }
}

/// Why a process could not be started.
package struct SpawnError: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}

/// `strings` as a NULL-terminated C array (argv, envp) for the duration of `body`.
package func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    pointers.append(nil)
    defer { for p in pointers { free(p) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
