// libFuzzer harness for the control connection: see ControlLineHarness.swift.
import FuzzDriver

runLibFuzzer { fuzzControlLine($0, $1) }
