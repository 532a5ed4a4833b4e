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
/// Every call is bounded in time (`ClientError.timeout`); a line the client cannot decode fails
/// the request it answers (`ClientError.undecodable`), or, when it answers none (a frame, a
/// line without an id and nothing waiting), ends the connection with that as `closedReason`.
/// Thread-safe.
public final class ControlClient: Sendable {
    /// The server's greeting.
    public let greeting: Greeting
    public let path: String
    private let channel: any Channel
    private let state: NIOLockedValueBox<ClientState>

    struct ClientState {
        var nextID = 1
        /// Requests waiting for their reply, by id. Kept rather than reading an
        /// `NIOAsyncChannel`'s inbound sequence: several tasks send at once (the dashboard's
        /// commands, a poller) while a subscription's frames arrive on the same connection, so
        /// a reply must find its own caller whichever task reads — one inbound sequence would
        /// need this table behind it, or serialise every command behind the frames.
        var pending: [Int: CheckedContinuation<ServerMessage, any Error>] = [:]
        var frames: AsyncStream<Frame>.Continuation?
        var closed: String?
        /// Why this client ended the connection itself (no greeting in time, an undecodable line).
        var failure: ClientError?
    }

    /// How long `connect` waits for the greeting and each request for its reply, by default.
    public static let defaultTimeout: Duration = .seconds(10)
    /// How long this client's requests wait for their reply.
    public let timeout: Duration

    private init(path: String, greeting: Greeting, channel: any Channel, state: NIOLockedValueBox<ClientState>, timeout: Duration) {
        self.timeout = timeout
        self.path = path
        self.greeting = greeting
        self.channel = channel
        self.state = state
    }

    /// Connects, reads the greeting and negotiates the protocol version, each within `timeout`.
    public static func connect(path: String, client: String = "loopscope", timeout: Duration = ControlClient.defaultTimeout) async throws -> ControlClient {
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
        let noGreeting = channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            state.withLockedValue { $0.failure = $0.failure ?? .timeout("\(path) sent no greeting within \(timeout)") }
            channel.close(promise: nil)
        }
        let first: ServerMessage
        do {
            first = try await greetingPromise.futureResult.get()
            noGreeting.cancel()
        } catch {
            noGreeting.cancel()
            channel.close(promise: nil)
            throw error
        }
        guard let greeting = first.greeting else {
            channel.close(promise: nil)
            if let e = first.error { throw ClientError.server(code: e.code, message: e.message) }
            throw ClientError.disconnected("the server did not greet")
        }
        let client = ControlClient(path: path, greeting: greeting, channel: channel, state: state, timeout: timeout)
        do {
            _ = try await client.send(.hello(versions: ProtocolVersion.supported, client: client.description))
        } catch {
            await client.close()
            throw error
        }
        return client
    }

    private var description: String { "loopscope-client" }

    /// Sends a command and waits for its reply, at most `timeout` (the client's by default);
    /// throws `ClientError.server` with the server's message, `.timeout` when no reply came in
    /// time, `.undecodable` when the reply could not be read.
    @discardableResult
    public func send(_ command: Command, timeout: Duration? = nil) async throws -> ReplyResult {
        let limit = timeout ?? self.timeout
        let state = self.state
        let path = self.path
        let request = command.request(id: nil).op
        // The timer goes once the request is answered (a poller would pile them up otherwise).
        let timer = NIOLockedValueBox<Scheduled<Void>?>(nil)
        defer { timer.withLockedValue { $0?.cancel() } }
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
            let scheduled = channel.eventLoop.scheduleTask(in: TimeAmount(limit)) { () -> Void in
                // A reply that comes later finds no one waiting and is dropped.
                state.withLockedValue { $0.pending.removeValue(forKey: id) }?
                    .resume(throwing: ClientError.timeout("no reply to '\(request)' from \(path) within \(limit)"))
            }
            timer.withLockedValue { $0 = scheduled }
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
    /// With `skipUnchanged` the server sends a frame whose figures did not move as a short
    /// `unchanged` line, and this client rebuilds the frame from the one before: the stream is
    /// the same either way, minus most of the decoding on a quiet server.
    public func subscribe(intervalMs: Int, skipUnchanged: Bool = true) async throws -> AsyncStream<Frame> {
        let (stream, continuation) = AsyncStream<Frame>.makeStream(bufferingPolicy: .bufferingNewest(4))
        state.withLockedValue { $0.frames = continuation }
        do {
            try await send(.subscribe(intervalMs: intervalMs, skipUnchanged: skipUnchanged))
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
    /// The last whole snapshot streamed, which `unchanged` lines repeat.
    private var lastStreamed: Snapshot?

    init(state: NIOLockedValueBox<ControlClient.ClientState>, greeting: EventLoopPromise<ServerMessage>) {
        self.state = state
        self.greeting = greeting
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        framer.append(unwrapInboundIn(data).readableBytesView)
        while let item = framer.next() {
            let message: ServerMessage
            switch item {
            case .tooLong(let bytes):
                fail(context: context, ClientError.undecodable("a line of \(bytes) bytes is over this client's limit"), line: nil)
                continue
            case .line(let line):
                do {
                    message = try codec.decodeServerMessage(line)
                } catch {
                    fail(context: context, ClientError.undecodable(error.message), line: line)
                    continue
                }
            }
            if !greeted {
                greeted = true
                greeting.succeed(message)
                continue
            }
            if let frame = message.frame {
                lastStreamed = frame.snapshot
                _ = state.withLockedValue { $0.frames }?.yield(frame)
            } else if let unchanged = message.unchanged {
                guard let previous = lastStreamed else {
                    fail(context: context, ClientError.undecodable("an unchanged frame before any frame"), line: nil)
                    continue
                }
                let frame = unchanged.applied(to: previous)
                lastStreamed = frame.snapshot
                _ = state.withLockedValue { $0.frames }?.yield(frame)
            } else if let id = message.id {
                state.withLockedValue { $0.pending.removeValue(forKey: id) }?.resume(returning: message)
            } else if message.ok == false {
                // An error the server could not tie to a request id: it answers the oldest request.
                state.withLockedValue { s in s.pending.keys.min().flatMap { s.pending.removeValue(forKey: $0) } }?.resume(returning: message)
            }
        }
    }

    /// A line the client cannot use: it fails the request it answers (by its id); anything
    /// else (the greeting, a frame, a line with no request to answer) ends the connection, with
    /// the error as the reason everyone waiting gets.
    private func fail(context: ChannelHandlerContext, _ error: ClientError, line: [UInt8]?) {
        let id = line.flatMap(Self.replyID)
        if greeted, let id, let waiting = state.withLockedValue({ $0.pending.removeValue(forKey: id) }) {
            waiting.resume(throwing: error)
            return
        }
        state.withLockedValue { $0.failure = $0.failure ?? error }
        context.close(promise: nil)
    }

    /// The integer `id` of a server line that did not decode as a whole, if it has one.
    private static func replyID(_ line: [UInt8]) -> Int? {
        struct IDOnly: Decodable { var id: Int? }
        return (try? WireCodec().decode(IDOnly.self, from: line))?.id
    }

    func channelInactive(context: ChannelHandlerContext) {
        let (pending, frames, failure) = state.withLockedValue { s -> ([CheckedContinuation<ServerMessage, any Error>], AsyncStream<Frame>.Continuation?, ClientError) in
            let failure = s.failure ?? .disconnected(greeted ? "the server closed the connection" : "closed before the greeting")
            s.closed = s.closed ?? failure.description
            let p = Array(s.pending.values)
            s.pending.removeAll()
            let f = s.frames
            s.frames = nil
            return (p, f, failure)
        }
        if !greeted {
            greeted = true
            greeting.fail(failure)
        }
        for p in pending { p.resume(throwing: failure) }
        frames?.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
