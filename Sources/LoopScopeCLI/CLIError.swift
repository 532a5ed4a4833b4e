/// An error the CLI prints as it is and exits non-zero with.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
