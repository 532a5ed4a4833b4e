/// A path template such as `/users/:id/orders`: literal segments and `:name` parameters. Pure.
public struct RouteTemplate: Sendable, Hashable, CustomStringConvertible {
    enum Segment: Sendable, Hashable {
        case literal(String)
        case parameter(String)
    }

    let segments: [Segment]
    public let description: String

    /// Parses a template; it must start with `/` and parameter names must be non-empty and unique.
    public init(_ template: String) throws(RuntimeError) {
        guard template.hasPrefix("/") else { throw .invalidRoute("'\(template)' must start with /") }
        var names = Set<String>()
        var segments: [Segment] = []
        for part in template.split(separator: "/", omittingEmptySubsequences: true) {
            if part.hasPrefix(":") {
                let name = String(part.dropFirst())
                guard !name.isEmpty else { throw .invalidRoute("'\(template)' has an unnamed parameter") }
                guard names.insert(name).inserted else { throw .invalidRoute("'\(template)' repeats the parameter '\(name)'") }
                segments.append(.parameter(name))
            } else {
                segments.append(.literal(String(part)))
            }
        }
        self.segments = segments
        self.description = template
    }

    /// Whether the template has no parameters (matched by a dictionary lookup).
    var isLiteral: Bool { segments.allSatisfy { if case .literal = $0 { return true } else { return false } } }

    /// The parameters when `path` (without query) matches, else nil.
    func match(_ path: Substring) -> [String: String]? {
        var params: [String: String] = [:]
        var parts = path.split(separator: "/", omittingEmptySubsequences: true).makeIterator()
        for segment in segments {
            guard let part = parts.next() else { return nil }
            switch segment {
            case .literal(let s): if part != s { return nil }
            case .parameter(let name): params[name] = String(part)
            }
        }
        return parts.next() == nil ? params : nil
    }
}
