// libFuzzer harness for HTTP connections: see HTTPRequestHarness.swift.
import FuzzDriver
import LoopScopeRuntime

// The process pool's worker is this executable in worker mode: it serves jobs and exits here.
ProcessWorker.runIfRequested(jobs: [])
runLibFuzzer { fuzzHTTPRequest($0, $1) }
