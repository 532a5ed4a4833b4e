import CLoopScopeSys

/// The calling thread's name (`NIO-ELT-0-#0`, `ls-threads`, …), for diagnostics and tests.
public enum ThreadName {
    /// Names the calling thread as the kernel sees it (`/proc/self/task/TID/comm`, `top -H`),
    /// up to 15 bytes. Foundation's `Thread.name` does not: a thread started from the
    /// cooperative pool keeps that pool's name.
    public static func set(_ name: String) { loopscope_set_thread_name(name) }

    public static var current: String {
        var buffer = [CChar](repeating: 0, count: 32)
        loopscope_thread_name(&buffer, 32)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
