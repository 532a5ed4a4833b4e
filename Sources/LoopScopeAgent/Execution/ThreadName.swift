import CLoopScopeSys

/// The calling thread's name (`NIO-ELT-0-#0`, `ls-threads`, …), for diagnostics and tests.
public enum ThreadName {
    public static var current: String {
        var buffer = [CChar](repeating: 0, count: 32)
        loopscope_thread_name(&buffer, 32)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
