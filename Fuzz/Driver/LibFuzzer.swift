#if canImport(Glibc)
import Glibc
#endif

/// libFuzzer's entry point for programs that have a `main` of their own.
@_extern(c, "LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ test: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// Runs libFuzzer on `test` with this process's arguments and exits with its status.
///
/// A harness's main.swift calls it: SwiftPM links an executable's `main` to the top-level code
/// of its main.swift, which takes the place of libFuzzer's own `main` (still linked, and
/// needing the harness to define `LLVMFuzzerTestOneInput`: pass that function here).
public func runLibFuzzer(_ test: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    var argc = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, test))
}
