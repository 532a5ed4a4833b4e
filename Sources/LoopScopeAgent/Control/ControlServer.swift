import Foundation
import Synchronization
import NIOCore
import NIOPosix
import LoopScopeWire
#if canImport(Glibc)
import Glibc
#endif

/// The control socket: a Unix domain socket on an event loop of its own, so it answers while
/// every HTTP loop is blocked. Only the owner's uid may connect (SO_PEERCRED), plus members of
/// an optional read-only group. Thread-safe.
package final class ControlServer: Sendable {
    package let socketPath: String
    package let announcementPath: String
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel

    private init(socketPath: String, announcementPath: String, group: MultiThreadedEventLoopGroup, channel: any Channel) {
        self.socketPath = socketPath
        self.announcementPath = announcementPath
        self.group = group
        self.channel = channel
    }

    package static func start(core: AgentCore, configuration: ControlConfiguration) async throws -> ControlServer {
        let directory = configuration.directory ?? SocketDirectory.defaultPath()
        try SocketDirectory.prepare(directory, groupReadable: configuration.readOnlyGroup)
        SocketDirectory.removeDead(in: directory)
        let pid = getpid()
        let base = "\(directory)/\(Self.safeName(core.configuration.name))-\(pid)"
        let socketPath = base + ".sock"
        var st = stat()
        if lstat(socketPath, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFSOCK, st.st_uid == getuid() else {
                throw RuntimeError.socket("\(socketPath) exists and is not our socket; refusing to replace it")
            }
            unlink(socketPath)
        }
        let cache = SnapshotCache(core: core)
        let owner = getuid()
        let readOnlyGroup = configuration.readOnlyGroup
        let admission = ControlAdmission(limit: configuration.maxConnections)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bootstrap = ServerBootstrap(group: group)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 64 * 1024, high: 256 * 1024))
            // A slow subscriber holds at most ~320 KiB here before its frames are dropped.
            .childChannelOption(.socketOption(.so_sndbuf), value: 64 * 1024)
            .childChannelInitializer { channel in
                // Who it is first: read-only peers may not take the places kept for the owner.
                Self.peer(channel).flatMap { cred in
                    channel.eventLoop.makeCompletedFuture {
                        let access = Self.access(uid: cred.uid, pid: cred.pid, owner: owner, readOnlyGroup: readOnlyGroup)
                        if case .refused = access {
                            // Answered and closed below; it takes no place.
                        } else if !admission.admit(readOnly: access == .readOnly) {
                            let refusal = WireError(.tooManyConnections, "this control socket serves at most \(admission.limit) connections at once; close one and retry")
                            try channel.pipeline.syncOperations.addHandler(RefusingHandler(refusal))
                            return
                        } else {
                            channel.closeFuture.whenComplete { _ in admission.closed() }
                        }
                        switch access {
                        case .refused(let why):
                            try channel.pipeline.syncOperations.addHandler(RefusingHandler(WireError(.forbidden, why)))
                        case .full, .readOnly:
                            let actor = "pid \(cred.pid) uid \(cred.uid)"
                            try channel.pipeline.syncOperations.addHandler(ControlHandler(core: core, cache: cache, readOnly: access == .readOnly, actor: actor))
                        }
                    }
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(unixDomainSocketPath: socketPath).get()
        } catch {
            // The group's thread must not outlive a failed start.
            try? await group.shutdownGracefully()
            throw RuntimeError.socket("cannot listen on \(socketPath): \(error)")
        }
        chmod(socketPath, readOnlyGroup == nil ? 0o600 : 0o660)
        if let gid = readOnlyGroup { chown(socketPath, uid_t.max, gid) }
        let announcement = ServerAnnouncement(name: core.configuration.name, pid: pid, socket: socketPath,
                                              address: core.address.withLockedValue { $0 }, startedAt: core.startedAt,
                                              member: core.configuration.member)
        let announcementPath = base + ".json"
        let server = ControlServer(socketPath: socketPath, announcementPath: announcementPath, group: group, channel: channel)
        do {
            let data = try JSONEncoder().encode(announcement)
            guard FileManager.default.createFile(atPath: announcementPath, contents: data, attributes: [.posixPermissions: readOnlyGroup == nil ? 0o600 : 0o640]) else {
                throw RuntimeError.socket("cannot write \(announcementPath)")
            }
        } catch {
            await server.stop()
            throw error
        }
        return server
    }

    package func stop() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
        unlink(socketPath)
        unlink(announcementPath)
    }

    package enum Access: Equatable {
        case full, readOnly
        case refused(String)
    }

    /// Who may use the socket: the owner fully, the read-only group for reading, no one else.
    package static func access(uid: UInt32, pid: Int32, owner: UInt32, readOnlyGroup: UInt32?) -> Access {
        if uid == owner { return .full }
        if let gid = readOnlyGroup, groups(of: pid).contains(gid) { return .readOnly }
        return .refused("uid \(uid) may not use this socket (owner uid \(owner))")
    }

    /// Groups of a process, from /proc.
    package static func groups(of pid: Int32) -> Set<UInt32> {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return [] }
        var out = Set<UInt32>()
        for line in text.split(separator: "\n") where line.hasPrefix("Groups:") || line.hasPrefix("Gid:") {
            for field in line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst() {
                if let g = UInt32(field) { out.insert(g) }
            }
        }
        return out
    }

    private static func peer(_ channel: any Channel) -> EventLoopFuture<(uid: UInt32, pid: Int32)> {
        #if os(Linux)
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeSucceededFuture((UInt32.max, 0))
        }
        let future: EventLoopFuture<PeerCredentials> = provider.unsafeGetSocketOption(level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
        return future.map { ($0.uid, $0.pid) }.recover { _ in (UInt32.max, 0) }
        #else
        return channel.eventLoop.makeSucceededFuture((getuid(), 0))
        #endif
    }

    private static func safeName(_ name: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }.prefix(48))
    }
}

/// Counts the control connections open and admits one more only under the limit. Thread-safe.
private final class ControlAdmission: Sendable {
    let limit: Int
    private let open = Atomic<Int>(0)

    init(limit: Int) { self.limit = limit }

    /// Places only the owner's (full-access) connections may take, so read-only peers cannot
    /// lock the owner out.
    var ownerReserve: Int { min(8, limit / 4) }

    /// True when the connection may be served (it is then open until `closed()`).
    func admit(readOnly: Bool) -> Bool {
        if open.add(1, ordering: .relaxed).newValue > (readOnly ? limit - ownerReserve : limit) {
            open.subtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func closed() { open.subtract(1, ordering: .relaxed) }
}

/// Answers a refused peer with one structured error line and closes.
private final class RefusingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let error: WireError

    init(_ error: WireError) { self.error = error }

    func channelActive(context: ChannelHandlerContext) {
        let line = WireCodec().encodeLine(ServerMessage.failure(id: nil, error))
        var buffer = context.channel.allocator.buffer(capacity: line.count)
        buffer.writeBytes(line)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in channel.close(promise: nil) }
    }
}

/// `struct ucred` from <sys/socket.h> (Linux): the layout SO_PEERCRED fills.
package struct PeerCredentials: Sendable {
    package var pid: Int32
    package var uid: UInt32
    package var gid: UInt32
}
