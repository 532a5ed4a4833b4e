/// Maps a method and a path to a route index. Pure and immutable once built.
struct Router: Sendable {
    enum Match: Equatable {
        case found(route: Int, parameters: [String: String])
        /// The path exists but not for this method; the methods it accepts.
        case methodNotAllowed(allowed: [String])
        case notFound
    }

    private struct Key: Hashable {
        var method: String
        var path: String
    }

    private var literal: [Key: Int] = [:]
    private var literalPaths: [String: [String]] = [:]
    private var templated: [(method: String, template: RouteTemplate, route: Int)] = []

    /// - Parameter routes: (method, template) per route index.
    init(_ routes: [(method: String, template: RouteTemplate)]) throws(RuntimeError) {
        for (index, r) in routes.enumerated() {
            if r.template.isLiteral {
                let key = Key(method: r.method, path: Self.normalise(r.template.description[...]))
                guard literal[key] == nil else { throw .duplicateRoute("\(r.method) \(r.template)") }
                literal[key] = index
                literalPaths[key.path, default: []].append(r.method)
            } else {
                guard !templated.contains(where: { $0.method == r.method && $0.template == r.template }) else {
                    throw .duplicateRoute("\(r.method) \(r.template)")
                }
                templated.append((r.method, r.template, index))
            }
        }
    }

    /// Finds the route for a request target (the query, if any, is ignored).
    func match(method: String, uri: String) -> Match {
        let path = Self.normalise(Self.path(of: uri))
        if let index = literal[Key(method: method, path: path)] {
            return .found(route: index, parameters: [:])
        }
        var allowed = literalPaths[path] ?? []
        for t in templated {
            guard let params = t.template.match(path[...]) else { continue }
            if t.method == method { return .found(route: t.route, parameters: params) }
            allowed.append(t.method)
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed.sorted())
    }

    /// The request target without its query.
    static func path(of uri: String) -> Substring {
        uri.utf8.firstIndex(of: UInt8(ascii: "?")).map { uri[..<$0] } ?? uri[...]
    }

    /// `/a/b/` and `/a//b` match `/a/b`. Byte-wise: this runs for every request.
    private static func normalise(_ path: Substring) -> String {
        let slash = UInt8(ascii: "/")
        var previous: UInt8 = 0
        var clean = true
        for b in path.utf8 {
            if b == slash && previous == slash { clean = false; break }
            previous = b
        }
        if clean && (path.utf8.count <= 1 || path.utf8.last != slash) { return String(path) }
        return "/" + path.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
    }
}
