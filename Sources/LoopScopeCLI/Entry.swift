#if canImport(Glibc)
import Glibc
#endif
import LoopScopeDemo
import LoopScopeRuntime

/// The executable's entry point.
@main
enum Entry {
    static func main() async {
        // SIGTERM ignored is inherited from a parent that catches it through dispatch (a test
        // runner, a supervisor): one sent before `serve` catches it itself would be lost.
        // Until then it terminates, as it should.
        signal(SIGTERM, SIG_DFL)
        // A process-pool worker is this executable started with the worker argument: serve jobs and exit.
        ProcessWorker.runIfRequested(jobs: DemoJobs.all)
        await LoopScopeCommand.main(nil)
    }
}
