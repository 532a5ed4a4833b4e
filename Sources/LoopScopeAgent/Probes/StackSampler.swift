#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CLoopScopeSys

/// Looks at a stalled thread without harming it: a running thread has its stack sampled
/// (SIGPROF to that thread, `backtrace()` in the handler, symbolised here); a blocked one is
/// only named by the system call it sits in, read from /proc, because a signal would cut its
/// sleep or read short. Used by the watchdog thread only (its symbol cache is not locked).
package final class StackSampler: @unchecked Sendable {
    /// What a look found.
    package enum Look: Equatable {
        /// On CPU: the site of its stack.
        case running(function: String, frames: [String])
        /// Asleep in a system call that is not its executor's idle wait.
        case blocked(syscall: String)
        /// Waiting for work (its executor's idle wait), gone, or unreadable.
        case idle
        /// Running, but did not answer the signal in time.
        case noAnswer
        /// The thread has exited.
        case gone
    }

    /// How long a sample waits for the thread's handler.
    package static let answerTimeoutMicros: Int32 = 10_000
    /// Deepest stack read.
    package static let maxFrames = 64

    private let executable: String
    private var symbols: [UInt: StackFrames.Frame] = [:]
    private var frames = [UInt](repeating: 0, count: StackSampler.maxFrames)
    /// Time the stalled threads spent in the signal handler, over every sample, nanoseconds.
    private(set) var handlerNanos: UInt64 = 0
    private(set) var samples: UInt64 = 0
    private(set) var unanswered: UInt64 = 0

    package init() {
        _ = loopscope_stacks_install()
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let path = n > 0 ? String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
        executable = path.split(separator: "/").last.map(String.init) ?? ""
    }

    /// Looks at thread `tid`. `idleSyscalls` are the calls its executor waits for work in
    /// (e.g. `epoll_wait` for an event loop).
    package func look(tid: Int32, idleSyscalls: Set<String>) -> Look {
        switch UInt8(bitPattern: loopscope_thread_state(tid)) {
        case UInt8(ascii: "R"):
            return sample(tid)
        case UInt8(ascii: "S"), UInt8(ascii: "D"):
            let nr = loopscope_thread_syscall(tid)
            guard nr >= 0 else {
                // It woke between the two reads: sample it only if it is still running, since
                // a thread back in a sleep would have that sleep cut short by the signal.
                return nr == -1 && UInt8(bitPattern: loopscope_thread_state(tid)) == UInt8(ascii: "R") ? sample(tid) : .idle
            }
            let name = Self.syscallName(nr)
            return idleSyscalls.contains(name) ? .idle : .blocked(syscall: name)
        case 0:
            return .gone
        default:
            return .idle
        }
    }

    private func sample(_ tid: Int32) -> Look {
        var handler: UInt64 = 0
        let n = frames.withUnsafeMutableBufferPointer { buffer in
            loopscope_stacks_sample(tid, buffer.baseAddress, Int32(buffer.count), Self.answerTimeoutMicros, &handler)
        }
        guard n > 0 else {
            if n == 0 { unanswered &+= 1 }
            return n == 0 ? .noAnswer : .idle
        }
        samples &+= 1
        handlerNanos &+= handler
        // frames[0] is the interrupted instruction; the others are return addresses, which
        // point after their call: name the call itself.
        let named = (0..<Int(n)).map { i in symbol(i == 0 ? frames[i] : frames[i] &- 1) }
        let site = StackFrames.site(named, executable: executable)
        if let debug = Self.debugFile { Self.write(named, site: site.function, to: debug) }
        return .running(function: site.function, frames: site.frames)
    }

    private func symbol(_ address: UInt) -> StackFrames.Frame {
        if let known = symbols[address] { return known }
        var name = [CChar](repeating: 0, count: 1024)
        var object = [CChar](repeating: 0, count: 256)
        _ = loopscope_symbolize(address, &name, Int32(name.count), &object, Int32(object.count))
        let frame = StackFrames.Frame(symbol: Self.string(name), object: Self.string(object))
        if symbols.count >= 8192 { symbols.removeAll(keepingCapacity: true) }
        symbols[address] = frame
        return frame
    }

    /// `LOOPSCOPE_DEBUG_STACKS=FILE` appends every sampled stack, raw, to FILE: to see why a
    /// frame was or was not folded.
    private static let debugFile: String? = getenv("LOOPSCOPE_DEBUG_STACKS").map { String(cString: $0) }

    private static func write(_ frames: [StackFrames.Frame], site: String, to path: String) {
        guard let f = fopen(path, "a") else { return }
        defer { fclose(f) }
        fputs("site \(site)\n", f)
        for frame in frames { fputs("  \(frame.object)  \(frame.symbol)\n", f) }
    }

    package static func syscallName(_ nr: Int64) -> String {
        var out = [CChar](repeating: 0, count: 64)
        loopscope_syscall_name(nr, &out, Int32(out.count))
        return string(out)
    }

    private static func string(_ chars: [CChar]) -> String {
        let bytes = chars.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The calling thread's kernel id.
    package static func currentThreadID() -> Int32 { loopscope_gettid() }
}
