import NIOCore
import NIOPosix
import NIOConcurrencyHelpers
import LoopScopeWire

/// One connection to a server's control socket: typed commands and a typed snapshot stream.
///
/// ```swift
/// let client = try await ControlClient.connect(path: try ServerLocator.resolve(nil))
/// let snapshot = try await client.snapshot()
/// try await client.send(.route(method: "GET", path: "/hash", model: .threads))
/// ```
/// Thread-safe.
public final class ControlClient: Sendable {
    /// The server's greeting.
    public let greeting: Greeting
    public let path: String
    private let channel: any Channel
    private let state: NIOLockedValueBox<ClientState>

    struct ClientState {
        var nextID = 1
        var pending: [Int: CheckedContinuation<ServerMessage, any Error>] = [:]
        var frames: AsyncStream<Frame>.Continuation?
        var closed: String?
    }

    private init(path: String, greeting: Greeting, channel: any Channel, state: NIOLockedValueBox<ClientState>) {
        self.path = path
        self.greeting = greeting
        self.channel = channel
        self.state = state
    }

    /// Connects, reads the greeting and negotiates the protocol version.
    public static func connect(path: String, client: String = "loopscope") async throws -> ControlClient {
        let state = NIOLockedValueBox(ClientState())
        let greetingPromise = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: ServerMessage.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(3))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ClientHandler(state: state, greeting: greetingPromise))
                    }
                }
                .connect(unixDomainSocketPath: path).get()
        } catch {
            greetingPromise.fail(error)
            throw ClientError.connect("\(path): \(error)")
        }
        let first = try await greetingPromise.futureResult.get()
        guard let greeting = first.greeting else {
            channel.close(promise: nil)
            if let e = first.error { throw ClientError.server(code: e.code, message: e.message) }
            throw ClientError.disconnected("the server did not greet")
        }
        let client = ControlClient(path: path, greeting: greeting, channel: channel, state: state)
        _ = try await client.send(.hello(versions: ProtocolVersion.supported, client: client.description))
        return client
    }

    private var description: String { "loopscope-client" }

    /// Sends a command and waits for its reply; throws `ClientError.server` with the server's message.
    @discardableResult
    public func send(_ command: Command) async throws -> ReplyResult {
        let reply: ServerMessage = try await withCheckedThrowingContinuation { continuation in
            let id: Int? = state.withLockedValue { s in
                if let why = s.closed {
                    continuation.resume(throwing: ClientError.disconnected(why))
                    return nil
                }
                let id = s.nextID
                s.nextID += 1
                s.pending[id] = continuation
                return id
            }
            guard let id else { return }
            let line = WireCodec().encodeLine(command.request(id: id))
            var buffer = channel.allocator.buffer(capacity: line.count)
            buffer.writeBytes(line)
            channel.writeAndFlush(buffer, promise: nil)
        }
        if reply.ok == true, let result = reply.result { return result }
        throw ClientError.server(code: reply.error?.code ?? "unknown", message: reply.error?.message ?? "no message")
    }

    /// One snapshot.
    public func snapshot() async throws -> Snapshot {
        guard let s = try await send(.snapshot).snapshot else { throw ClientError.disconnected("reply without a snapshot") }
        return s
    }

    /// Subscribes to snapshots every `intervalMs`; the stream ends when the connection closes.
    public func subscribe(intervalMs: Int) async throws -> AsyncStream<Frame> {
        let (stream, continuation) = AsyncStream<Frame>.makeStream(bufferingPolicy: .bufferingNewest(4))
        state.withLockedValue { $0.frames = continuation }
        do {
            try await send(.subscribe(intervalMs: intervalMs))
        } catch {
            continuation.finish()
            throw error
        }
        return stream
    }

    public func close() async {
        try? await channel.close()
    }

    /// Why the connection ended, once it has.
    public var closedReason: String? { state.withLockedValue { $0.closed } }
}

/// Decodes server lines and routes them: greeting, replies by id, frames to the stream.
private final class ClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let state: NIOLockedValueBox<ControlClient.ClientState>
    private let greeting: EventLoopPromise<ServerMessage>
    private var greeted = false
    private var framer = LineFramer(maxLineBytes: 64 << 20)
    private let codec = WireCodec()

    init(state: NIOLockedValueBox<ControlClient.ClientState>, greeting: EventLoopPromise<ServerMessage>) {
        self.state = state
        self.greeting = greeting
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        framer.append(unwrapInboundIn(data).readableBytesView)
        while let item = framer.next() {
            guard case .line(let line) = item, let message = try? codec.decodeServerMessage(line) else { continue }
            if !greeted {
                greeted = true
                greeting.succeed(message)
                continue
            }
            if let frame = message.frame {
                _ = state.withLockedValue { $0.frames }?.yield(frame)
            } else if let id = message.id {
                state.withLockedValue { $0.pending.removeValue(forKey: id) }?.resume(returning: message)
            } else if message.ok == false {
                // An error the server could not tie to a request id: it answers the oldest request.
                state.withLockedValue { s in s.pending.keys.min().flatMap { s.pending.removeValue(forKey: $0) } }?.resume(returning: message)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !greeted { greeting.fail(ClientError.disconnected("closed before the greeting")) }
        let (pending, frames) = state.withLockedValue { s -> ([CheckedContinuation<ServerMessage, any Error>], AsyncStream<Frame>.Continuation?) in
            s.closed = s.closed ?? "the server closed the connection"
            let p = Array(s.pending.values)
            s.pending.removeAll()
            let f = s.frames
            s.frames = nil
            return (p, f)
        }
        for p in pending { p.resume(throwing: ClientError.disconnected("the server closed the connection")) }
        frames?.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
