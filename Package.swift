// swift-tools-version: 6.0
import PackageDescription

/// A product of one of the packages below, found by name: each product's package is said once, here.
func product(_ name: String) -> Target.Dependency {
    let packages = [
        "swift-nio": ["NIOCore", "NIOPosix", "NIOHTTP1", "NIOConcurrencyHelpers", "NIOEmbedded"],
        "swift-nio-extras": ["NIOExtras"], "swift-log": ["Logging"], "hdrhistogram-swift": ["Histogram"],
        "swift-service-lifecycle": ["ServiceLifecycle", "UnixSignals"], "hummingbird": ["Hummingbird"],
        "postgres-nio": ["PostgresNIO"], "swift-argument-parser": ["ArgumentParser"],
    ]
    guard let package = packages.first(where: { $0.value.contains(name) })?.key else { fatalError("Package.swift: no package lists the product \(name)") }
    return .product(name: name, package: package)
}

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
        .target(name: "LoopScopeWire", plugins: ["PublicInits"]),

        // The public memberwise inits of the wire's value types, derived from their properties.
        .plugin(name: "PublicInits", capability: .buildTool()),

        // Process-level calls Swift cannot make directly (variadic prctl, SO_PEERCRED).
        .target(name: "CLoopScopeSys"),

        // The instrumentation any Swift server embeds: probes, watchdog and stall sites,
        // statistics, pools, diagnoses, control socket. Knows nothing of HTTP.
        .target(
            name: "LoopScopeAgent",
            dependencies: [
                "LoopScopeWire", "CLoopScopeSys",
                product("NIOCore"), product("NIOPosix"), product("NIOConcurrencyHelpers"), product("Logging"), product("Histogram"), product("ServiceLifecycle"),
            ]
        ),

        // LoopScope's own HTTP server runtime: routes, execution models; one user of the agent.
        .target(
            name: "LoopScopeRuntime",
            dependencies: [
                "LoopScopeWire", "LoopScopeAgent", "CLoopScopeSys",
                product("NIOCore"), product("NIOPosix"), product("NIOHTTP1"), product("NIOConcurrencyHelpers"), product("NIOExtras"), product("UnixSignals"), product("Logging"),
            ]
        ),

        // Plain SwiftNIO HTTP/1 servers: a channel handler recording routes with the agent.
        .target(
            name: "LoopScopeNIO",
            dependencies: [
                "LoopScopeAgent", "LoopScopeWire", "CLoopScopeSys",
                product("NIOCore"), product("NIOHTTP1"),
            ]
        ),

        // Hummingbird 2: a router middleware recording routes by template with the agent.
        .target(
            name: "LoopScopeHummingbird",
            dependencies: ["LoopScopeAgent", "LoopScopeWire", product("Hummingbird")]
        ),

        // The demo's kinds of work written the way people write them in Hummingbird.
        .executableTarget(
            name: "LoopScopeHummingbirdDemo",
            dependencies: [
                "LoopScopeHummingbird", "LoopScopeAgent", "LoopScopeDemo",
                product("Hummingbird"), product("PostgresNIO"), product("ServiceLifecycle"), product("Logging"),
            ],
            path: "demo/hummingbird"
        ),

        // Control-socket client: commands, snapshot stream, reconnect.
        .target(
            name: "LoopScopeClient",
            dependencies: [
                "LoopScopeWire",
                product("NIOCore"), product("NIOPosix"), product("NIOConcurrencyHelpers"),
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
                product("NIOCore"), product("NIOPosix"), product("NIOHTTP1"), product("NIOConcurrencyHelpers"), product("Histogram"),
            ],
            path: "demo/Sources/LoopScopeDemo"
        ),

        .executableTarget(
            name: "LoopScopeCLI",
            dependencies: [
                "LoopScopeRuntime", "LoopScopeAgent", "LoopScopeClient", "LoopScopeWire", "LoopScopeTUI",
                "LoopScopeCurses", "LoopScopeDemo", "CLoopScopeSys",
                product("ArgumentParser"), product("Logging"), product("NIOCore"), product("NIOPosix"),
            ]
        ),

        // Measuring tools behind Benchmarks/run (release builds only).
        .executableTarget(
            name: "loopscope-bench",
            dependencies: [
                "LoopScopeRuntime", "LoopScopeAgent", "LoopScopeClient", "LoopScopeWire", "LoopScopeTUI", "LoopScopeDemo",
                product("NIOCore"), product("NIOPosix"), product("NIOHTTP1"), product("NIOConcurrencyHelpers"),
            ],
            path: "Benchmarks/Sources/LoopScopeBench"
        ),

        .testTarget(name: "LoopScopeWireTests", dependencies: ["LoopScopeWire"]),
        .testTarget(
            name: "LoopScopeRuntimeTests",
            dependencies: [
                "LoopScopeRuntime", "LoopScopeAgent", "LoopScopeNIO", "LoopScopeWire", "LoopScopeDemo",
                product("ServiceLifecycle"), product("Logging"), product("NIOCore"), product("NIOPosix"), product("NIOHTTP1"), product("NIOEmbedded"), product("NIOConcurrencyHelpers"),
            ]
        ),
        .testTarget(name: "LoopScopeTUITests", dependencies: ["LoopScopeTUI", "LoopScopeWire"]),
        .testTarget(
            name: "LoopScopeHummingbirdTests",
            dependencies: [
                "LoopScopeHummingbird", "LoopScopeAgent", "LoopScopeWire", "LoopScopeDemo",
                product("Hummingbird"), product("PostgresNIO"), product("ServiceLifecycle"), product("Logging"),
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
                product("NIOCore"), product("NIOEmbedded"), product("Logging"),
            ],
            path: "Fuzz/ControlLine"
        ),
        .executableTarget(
            name: "fuzz-http-request",
            dependencies: [
                "FuzzDriver", "LoopScopeRuntime",
                product("NIOCore"), product("NIOEmbedded"), product("Logging"),
            ],
            path: "Fuzz/HTTPRequest"
        ),
    ]
}
