import LoopScopeDemo
import LoopScopeRuntime

/// The executable's entry point.
@main
enum Entry {
    static func main() async {
        // A process-pool worker is this executable started with the worker argument: serve jobs and exit.
        ProcessWorker.runIfRequested(jobs: DemoJobs.all)
        await LoopScopeCommand.main(nil)
    }
}
