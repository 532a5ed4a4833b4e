/// Versions of the control protocol and how two sides agree on one.
public enum ProtocolVersion {
    /// Versions this build speaks, oldest first.
    public static let supported: [Int] = [1]

    /// The newest version both sides speak, or nil when they share none.
    public static func negotiate(offered: [Int], supported: [Int] = ProtocolVersion.supported) -> Int? {
        Set(offered).intersection(supported).max()
    }
}
