import Foundation
import Testing
import LoopScopeWire

@Suite struct SocketDirectoryTests {
    let base = NSTemporaryDirectory() + "ls-dir-\(UUID().uuidString.prefix(8))"

    @Test func createsAPrivateDirectory() throws {
        defer { try? FileManager.default.removeItem(atPath: base) }
        try SocketDirectory.prepare(base)
        let attrs = try FileManager.default.attributesOfItem(atPath: base)
        #expect((attrs[.posixPermissions] as? Int) == 0o700)
    }

    @Test func refusesASymlinkInPlaceOfTheDirectory() throws {
        defer { try? FileManager.default.removeItem(atPath: base); try? FileManager.default.removeItem(atPath: base + "-target") }
        try FileManager.default.createDirectory(atPath: base + "-target", withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: base, withDestinationPath: base + "-target")
        #expect(throws: WireError.self) { try SocketDirectory.prepare(base) }
    }

    @Test func refusesADirectoryOwnedBySomeoneElse() throws {
        guard getuid() == 0 else { return }
        defer { try? FileManager.default.removeItem(atPath: base) }
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: false)
        chown(base, 65534, 65534)
        do {
            try SocketDirectory.prepare(base)
            Issue.record("accepted a directory owned by uid 65534")
        } catch {
            #expect(error.code == .forbidden)
            #expect(error.message.contains("belongs to uid 65534"))
        }
    }

    @Test func listingShowsLiveServersAndOnlyRemoveDeadDeletes() throws {
        defer { try? FileManager.default.removeItem(atPath: base) }
        try SocketDirectory.prepare(base)
        let dead = ServerAnnouncement(name: "gone", pid: 999_999, socket: base + "/gone.sock", address: "x", startedAt: 0)
        let alive = ServerAnnouncement(name: "me", pid: getpid(), socket: base + "/me.sock", address: "x", startedAt: 1)
        for a in [dead, alive] {
            try JSONEncoder().encode(a).write(to: URL(fileURLWithPath: base + "/\(a.name).json"))
        }
        #expect(SocketDirectory.list(base).map(\.name) == ["me"])
        #expect(FileManager.default.fileExists(atPath: base + "/gone.json"), "listing deleted a file")
        SocketDirectory.removeDead(in: base)
        #expect(!FileManager.default.fileExists(atPath: base + "/gone.json"))
        #expect(FileManager.default.fileExists(atPath: base + "/me.json"))
    }
}
