// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "LoopScope",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "loopscope", targets: ["LoopScopeCLI"]),
        .library(name: "LoopScopeRuntime", targets: ["LoopScopeRuntime"]),
        .library(name: "LoopScopeAgent", targets: ["LoopScopeAgent"]),
        .library(name: "LoopScopeNIO", targets: ["LoopScopeNIO"]),
        .library(name: "LoopScopeHummingbird", targets: ["LoopScopeHummingbird"]),
        .executable(name: "loopscope-hummingbird-demo", targets: ["LoopScopeHummingbirdDemo"]),
        .library(name: "LoopScopeClient", targets: ["LoopScopeClient"]),
        .library(name: "LoopScopeWire", targets: ["LoopScopeWire"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // ServerQuiescingHelper: the HTTP server's graceful drain.
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        // Only the Hummingbird integration, its demo and its tests use it: `loopscope` builds without.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        // Only the Hummingbird demo's database routes use it (its own product, like Hummingbird).
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // Messages, snapshot model, codec. Pure values: no NIO channel code.
        .target(name: "LoopScopeWire"),

        // Process-level calls Swift cannot make directly (variadic prctl, SO_PEERCRED).
        .target(name: "CLoopScopeSys"),

        // The instrumentation any Swift server embeds: probes, watchdog and stall sites,
        // statistics, pools, diagnoses, control socket. Knows nothing of HTTP.
        .target(
            name: "LoopScopeAgent",
            dependencies: [
                "LoopScopeWire", "CLoopScopeSys",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // LoopScope's own HTTP server runtime: routes, execution models; one user of the agent.
        .target(
            name: "LoopScopeRuntime",
            dependencies: [
                "LoopScopeWire", "LoopScopeAgent", "CLoopScopeSys",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Plain SwiftNIO HTTP/1 servers: a channel handler recording routes with the agent.
        .target(
            name: "LoopScopeNIO",
            dependencies: [
                "LoopScopeAgent", "CLoopScopeSys",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),

        // Hummingbird 2: a router middleware recording routes by template with the agent.
        .target(
            name: "LoopScopeHummingbird",
            dependencies: ["LoopScopeAgent", .product(name: "Hummingbird", package: "hummingbird")]
        ),

        // The demo's kinds of work written the way people write them in Hummingbird.
        .executableTarget(
            name: "LoopScopeHummingbirdDemo",
            dependencies: [
                "LoopScopeHummingbird", "LoopScopeAgent", "LoopScopeDemo",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "demo/hummingbird"
        ),

        // Control-socket client: commands, snapshot stream, reconnect.
        .target(
            name: "LoopScopeClient",
            dependencies: [
                "LoopScopeWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),

        // Dashboard: model -> layout -> widgets -> screen buffer. Pure.
        .target(name: "LoopScopeTUI", dependencies: ["LoopScopeWire"]),

        // ncurses: the only code that touches C terminal APIs.
        .systemLibrary(name: "CNcursesw", providers: [.apt(["libncurses-dev"])]),
        .target(
            name: "CursesShim",
            dependencies: ["CNcursesw"],
            cSettings: [.define("_XOPEN_SOURCE_EXTENDED"), .define("NCURSES_WIDECHAR", to: "1")],
            linkerSettings: [.linkedLibrary("ncursesw")]
        ),
        .target(name: "LoopScopeCurses", dependencies: ["LoopScopeTUI", "CursesShim"]),

        // The demo application: routes, jobs, upstream stub, load generator, scenarios.
        .systemLibrary(name: "CSQLite", path: "demo/CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        .target(
            name: "LoopScopeDemo",
            dependencies: [
                "LoopScopeRuntime", "LoopScopeAgent", "LoopScopeClient", "LoopScopeWire", "CSQLite",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "demo/Sources/LoopScopeDemo"
        ),

        .executableTarget(
            name: "LoopScopeCLI",
            dependencies: [
                "LoopScopeRuntime", "LoopScopeAgent", "LoopScopeClient", "LoopScopeWire", "LoopScopeTUI",
                "LoopScopeCurses", "LoopScopeDemo", "CLoopScopeSys",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),

        // Measuring tools behind Benchmarks/run (release builds only).
        .executableTarget(
            name: "loopscope-bench",
            dependencies: [
                "LoopScopeRuntime", "LoopScopeAgent", "LoopScopeClient", "LoopScopeWire", "LoopScopeTUI", "LoopScopeDemo",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            path: "Benchmarks/Sources/LoopScopeBench"
        ),

        .testTarget(name: "LoopScopeWireTests", dependencies: ["LoopScopeWire"]),
        .testTarget(
            name: "LoopScopeRuntimeTests",
            dependencies: [
                "LoopScopeRuntime", "LoopScopeAgent", "LoopScopeNIO", "LoopScopeWire", "LoopScopeDemo",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "LoopScopeTUITests", dependencies: ["LoopScopeTUI", "LoopScopeWire"]),
        .testTarget(
            name: "LoopScopeHummingbirdTests",
            dependencies: [
                "LoopScopeHummingbird", "LoopScopeAgent", "LoopScopeWire", "LoopScopeDemo",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "LoopScopeEndToEndTests",
            dependencies: ["LoopScopeRuntime", "LoopScopeClient", "LoopScopeWire", "LoopScopeDemo"]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// libFuzzer harnesses, built by `Fuzz/run` into .build-fuzz with `-sanitize=fuzzer,address`.
// Declared only when LOOPSCOPE_FUZZ is set, so a normal build or test never sees them.
if Context.environment["LOOPSCOPE_FUZZ"] != nil {
    package.targets += [
        // Starts libFuzzer from a harness's main.swift (`@_extern(c)` declares its driver).
        .target(name: "FuzzDriver", path: "Fuzz/Driver", swiftSettings: [.enableExperimentalFeature("Extern")]),
        .executableTarget(
            name: "fuzz-control-line",
            dependencies: [
                "FuzzDriver", "LoopScopeAgent", "LoopScopeWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Fuzz/ControlLine"
        ),
        .executableTarget(
            name: "fuzz-http-request",
            dependencies: [
                "FuzzDriver", "LoopScopeRuntime",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Fuzz/HTTPRequest"
        ),
    ]
}
