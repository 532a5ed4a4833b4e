import LoopScopeWire

/// Turns a sampled stack's symbol names into something an operator reads at 80 columns: Swift
/// names shortened (`LoopScopeDemo.CPUWork.spin(iterations: Swift.Int) -> Swift.UInt64` →
/// `CPUWork.spin(iterations:)`), and the frames of the runtime, NIO, the Swift runtime,
/// Foundation, Dispatch and libc folded so the innermost application frame names the site.
/// Pure.
public enum StackFrames {
    /// One symbolised frame, as the stack sampler reads it.
    public struct Frame: Sendable, Equatable {
        /// Demangled symbol name, or "" when unknown.
        public var symbol: String
        /// Base name of the object the address lies in (`loopscope`, `libc.so.6`, …).
        public var object: String
    }

    /// Modules whose frames are folded: the platform, the runtime and the libraries servers
    /// are built on. Everything else in the executable is application code.
    public static let foldedModules: Set<String> = [
        "Swift", "_Concurrency", "_StringProcessing", "Foundation", "FoundationEssentials", "FoundationInternationalization",
        "Dispatch", "Synchronization", "Glibc", "Musl", "Darwin", "__C",
        "NIO", "NIOCore", "NIOPosix", "NIOHTTP1", "NIOHTTP2", "NIOEmbedded", "NIOConcurrencyHelpers", "NIOExtras", "NIOSSL", "NIOTLS",
        "_NIODataStructures", "_NIOBase64", "NIOTransportServices", "NIOFileSystem", "_NIOFileSystem",
        "LoopScopeRuntime", "LoopScopeWire", "LoopScopeAgent", "LoopScopeClient", "LoopScopeHummingbird",
        "Hummingbird", "HummingbirdCore", "HummingbirdRouter", "HTTPTypes", "Logging", "Metrics", "CoreMetrics",
        "ServiceLifecycle", "UnixSignals", "AsyncHTTPClient", "Histogram", "AsyncAlgorithms", "DequeModule",
    ]

    /// The site of stacks with no application frame: the executor was busy in the runtime,
    /// NIO, Swift or libc themselves (many small jobs, I/O); one site for all of them.
    public static let frameworkSite = StallSite.frameworkCode

    /// The site of a stack, innermost frame first: the innermost application function and up
    /// to `keep` application frames (consecutive repeats merged). When no frame is the
    /// application's, the site is `frameworkSite` with the innermost three frames.
    public static func site(_ frames: [Frame], executable: String, keep: Int = 6) -> (function: String, frames: [String]) {
        var kept: [String] = []
        for f in frames where !isFolded(f, executable: executable) {
            let name = shorten(f.symbol)
            if kept.last != name { kept.append(name) }
            if kept.count == keep { break }
        }
        if let first = kept.first { return (first, kept) }
        var inner: [String] = []
        for f in frames where !f.symbol.isEmpty {
            let name = shorten(f.symbol)
            if inner.last != name { inner.append(name) }
            if inner.count == 3 { break }
        }
        return (frameworkSite, inner)
    }

    /// Whether a frame belongs to the platform or the libraries rather than the application.
    public static func isFolded(_ f: Frame, executable: String) -> Bool {
        guard f.object == executable else { return true }
        guard !f.symbol.isEmpty else { return true }
        if let module = module(of: f.symbol) { return foldedModules.contains(module) }
        // A C symbol in the executable: the application's, unless it is the runtime's glue.
        return f.symbol.hasPrefix("swift_") || f.symbol.hasPrefix("c_nio") || f.symbol.hasPrefix("CNIO") || f.symbol.hasPrefix("$s") || f.symbol.hasPrefix("_$s") || f.symbol == "main"
            || f.symbol.hasPrefix("_start") || f.symbol.hasPrefix("__") || f.symbol.hasPrefix("loopscope_")
    }

    /// The Swift module a demangled name belongs to (of its context, for a closure), or nil
    /// for a C name.
    public static func module(of symbol: String) -> String? {
        var s = Substring(stripPrefixes(symbol).name)
        // Code the compiler generates (thunks, witnesses, value-witness operations on copies).
        for generated in ["reabstraction thunk", "thunk for", "protocol witness", "type metadata", "init with take of", "initializeWithCopy",
                          "initializeWithTake", "assignWithCopy", "assignWithTake", "destroy", "value witness", "key path", "associated type"]
        where s.hasPrefix(generated) {
            return "Swift"
        }
        // A closure's module is its context's: follow `closure #1 … in closure #2 … in Context`.
        while let inIndex = topLevelIn(s) {
            s = Substring(stripPrefixes(String(s[inIndex...])).name)
            if !(s.hasPrefix("closure #") || s.hasPrefix("implicit closure #")) { break }
        }
        guard let dot = s.firstIndex(of: "."), s[..<dot].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), dot > s.startIndex else { return nil }
        return String(s[..<dot])
    }

    /// A demangled name made short: no modules, return types, generic clauses or parameter
    /// types; parameters as their labels; closures as `closure #1 in Context.function(_:)`.
    public static func shorten(_ symbol: String) -> String {
        let (name, async) = stripPrefixes(symbol)
        var s = Substring(name)
        guard s.contains("(") || s.contains(".") else { return name }
        var closure = ""
        if let inIndex = topLevelIn(s) {
            let head = s[..<inIndex].dropLast(4) // " in "
            if head.hasPrefix("closure #") || head.hasPrefix("implicit closure #") {
                let words = head.split(separator: " ").prefix(head.hasPrefix("implicit") ? 3 : 2)
                closure = words.joined(separator: " ") + " in "
            }
            s = Substring(stripPrefixes(String(s[inIndex...])).name)
            // A closure in a closure: name the whole chain, shortened.
            if s.hasPrefix("closure #") || s.hasPrefix("implicit closure #") { return closure + shorten(String(s)) + (async ? " (async)" : "") }
        }
        var out = ""
        var depth = 0
        var i = s.startIndex
        // The qualified name up to its parameter list, without generic clauses.
        while i < s.endIndex {
            let c = s[i]
            if c == "<" { depth += 1 } else if c == ">", i > s.startIndex, s[s.index(before: i)] != "-" { depth -= 1 } else if depth == 0 {
                if c == "(" || c == " " { break }
                out.append(c)
            }
            i = s.index(after: i)
        }
        if i < s.endIndex, s[i] == "(" { out += labels(s[i...]) }
        if let dot = out.firstIndex(of: "."), let paren = out.firstIndex(of: "("), dot < paren {
            out = String(out[out.index(after: dot)...])
        } else if !out.contains("("), let dot = out.firstIndex(of: ".") {
            out = String(out[out.index(after: dot)...])
        }
        return closure + out + (async ? " (async)" : "")
    }

    /// `(iterations: Swift.Int, _: Swift.String) -> …` → `(iterations:_:)`.
    private static func labels(_ params: Substring) -> String {
        var depth = 0
        var current = ""
        var result: [String] = []
        var sawColon = false
        var previous: Character = " "
        for c in params {
            defer { previous = c }
            if c == ">", previous == "-" { if depth == 1, !sawColon { current.append(c) }; continue }
            switch c {
            case "(", "<", "[":
                depth += 1
                if depth == 1, c == "(" { continue }
            case ")", ">", "]":
                depth -= 1
                if depth == 0 {
                    if !current.trimmingSpaces.isEmpty || sawColon { result.append(sawColon ? current.trimmingSpaces : "_") }
                    return "(" + result.map { $0 + ":" }.joined() + ")"
                }
            case "," where depth == 1:
                result.append(sawColon ? current.trimmingSpaces : "_")
                current = ""
                sawColon = false
                continue
            case ":" where depth == 1 && !sawColon:
                sawColon = true
                continue
            default: break
            }
            if depth == 1, !sawColon { current.append(c) }
        }
        return "(" + result.map { $0 + ":" }.joined() + ")"
    }

    /// Removes the compiler's decorations; says whether the frame is an async function's part.
    private static func stripPrefixes(_ symbol: String) -> (name: String, async: Bool) {
        var s = Substring(withoutPrivateDiscriminators(symbol))
        var async = false
        var changed = true
        while changed {
            changed = false
            if s.hasPrefix("("), let close = s.firstIndex(of: ")"), s[s.index(after: s.startIndex)..<close].allSatisfy(\.isNumber) {
                s = s[s.index(after: close)...].drop { $0 == " " }
                changed = true
            }
            for p in ["suspend resume partial function for ", "await resume partial function for ", "async function pointer to "] where s.hasPrefix(p) {
                s = s.dropFirst(p.count)
                async = true
                changed = true
            }
            for p in ["specialized ", "merged ", "partial apply forwarder for ", "partial apply for ", "outlined copy of ", "outlined ",
                      "@objc ", "static ", "variable initialization expression of ", "dispatch thunk of "] where s.hasPrefix(p) {
                s = s.dropFirst(p.count)
                changed = true
            }
            if s.hasPrefix("(extension in "), let close = s.firstIndex(of: ":") {
                s = s[s.index(after: close)...]
                changed = true
            }
            if s.hasPrefix("generic specialization <"), let of = s.range(of: "> of ") {
                s = s[of.upperBound...]
                changed = true
            }
            if s.hasPrefix("function signature specialization <"), let of = s.range(of: "> of ") {
                s = s[of.upperBound...]
                changed = true
            }
        }
        return (String(s), async)
    }

    /// `App.(Renderer in _F5AC3165…).draw()` → `App.Renderer.draw()`: private and fileprivate
    /// declarations carry their file's discriminator in the demangled name.
    static func withoutPrivateDiscriminators(_ symbol: String) -> String {
        guard symbol.contains(" in _") else { return symbol }
        var out = ""
        var rest = Substring(symbol)
        while let open = rest.firstIndex(of: "(") {
            let after = rest[rest.index(after: open)...]
            if let inRange = after.range(of: " in _"), let close = after[inRange.upperBound...].firstIndex(of: ")"),
               after[..<inRange.lowerBound].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }),
               after[inRange.upperBound..<close].allSatisfy({ $0.isHexDigit }) {
                out += rest[..<open] + after[..<inRange.lowerBound]
                rest = after[after.index(after: close)...]
            } else {
                out += rest[...open]
                rest = after
            }
        }
        return out + rest
    }

    /// Where the context of `closure #1 … in Context` starts, at nesting depth 0.
    private static func topLevelIn(_ s: Substring) -> Substring.Index? {
        var depth = 0
        var i = s.startIndex
        while i < s.endIndex {
            switch s[i] {
            case "(", "<", "[": depth += 1
            case ">" where i > s.startIndex && s[s.index(before: i)] == "-": break
            case ")", ">", "]": depth -= 1
            case " " where depth == 0:
                if s[i...].hasPrefix(" in ") { return s.index(i, offsetBy: 4) }
            default: break
            }
            i = s.index(after: i)
        }
        return nil
    }
}

private extension String {
    var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
