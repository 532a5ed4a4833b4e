import Foundation
import Testing

/// The commands refuse impossible numbers before starting anything, saying which and its range
/// (a negative number is a value, not a missing one).
@Suite struct CommandLineOptionsTests {
    @Test(arguments: [
        (["serve", "--no-control", "--pool-poll-us", "-3"], "--pool-poll-us must be 0...1000"),
        (["serve", "--no-control", "--pool-poll-us", "5000"], "--pool-poll-us must be 0...1000"),
        (["serve", "--no-control", "--threads", "-3"], "--threads must be between 1 and 256, got -3"),
        (["serve", "--no-control", "--processes", "0"], "--processes must be between 1 and 256, got 0"),
        (["serve", "--no-control", "--thread-queue-limit", "0"], "--thread-queue-limit must be between 1 and 1000000, got 0"),
        (["serve", "--no-control", "--stall-threshold-ms", "0"], "--stall-threshold-ms must be between 1 and 10000 ms, got 0"),
        (["record", "-o", "/dev/null", "--every", "50ms"], "--every must be between 100 and 10000 ms, got 50"),
        (["serve", "--no-control", "--loops", "99"], "--loops must be 1...64"),
        (["serve", "--no-control", "--port", "70000"], "--port must be 0...65535"),
        (["serve", "--no-control", "--header-timeout-ms", "0"], "--header-timeout-ms must be 1...3600000, got 0"),
        (["serve", "--no-control", "--keep-alive-timeout-ms", "-5"], "--keep-alive-timeout-ms must be 1...3600000, got -5"),
        (["serve", "--no-control", "--max-connections", "0"], "--max-connections must be 1...1000000, got 0"),
        (["serve", "--max-control-connections", "5000"], "--max-control-connections must be 1...4096, got 5000"),
        (["load", "--rate", "-3"], "--rate must be in (0, 1000000]"),
        (["dump", "--count", "-3"], "--count must be at least 1"),
        (["attach", "--refresh", "-3"], "--refresh must be 1...10 Hz"),
    ])
    func impossibleNumbersAreRefusedWithTheirRange(args: [String], message: String) throws {
        let (status, output) = try Binaries.run(Binaries.loopscope, args)
        #expect(status != 0)
        #expect(output.contains(message), "\(output)")
    }
    /// A server started with SIGTERM ignored (inherited from a parent that catches it through
    /// dispatch: a test runner, a supervisor) and sent SIGTERM while it starts still stops.
    @Test func aSIGTERMWhileTheServerStartsStopsIt() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", #"trap "" TERM; exec "$0" serve --port 0 --no-control --upstream-port 0"#, Binaries.loopscope]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let pid = p.processIdentifier
        // Once the shell has become loopscope (SIGTERM still ignored, as it handed it down).
        let exe = "/proc/\(pid)/exe"
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, (try? FileManager.default.destinationOfSymbolicLink(atPath: exe))?.hasSuffix("/loopscope") != true { usleep(1000) }
        kill(pid, SIGTERM)
        let stopBy = Date().addingTimeInterval(15)
        while p.isRunning, Date() < stopBy { usleep(20_000) }
        let stopped = !p.isRunning
        if !stopped { kill(pid, SIGKILL); p.waitUntilExit() }
        #expect(stopped, "a SIGTERM sent while the server started was lost")
    }
}
