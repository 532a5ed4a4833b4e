/// One call to each of several workers at once, so a slow one delays none of the others (each
/// call is bounded by its own client's timeout). Used by the dashboard's group commands and by
/// `ctl --group` and `dump --group`.
public enum FanOut {
    /// Runs `body` for every worker in `workers` concurrently; the outcomes in worker order.
    public static func run<T: Sendable>(_ workers: [Int], _ body: @escaping @Sendable (Int) async throws -> T) async -> [(worker: Int, result: Result<T, any Error>)] {
        await withTaskGroup(of: (Int, Result<T, any Error>).self) { group in
            for worker in workers {
                group.addTask {
                    do { return (worker, .success(try await body(worker))) } catch { return (worker, .failure(error)) }
                }
            }
            var out: [(worker: Int, result: Result<T, any Error>)] = []
            for await r in group { out.append((worker: r.0, result: r.1)) }
            return out.sorted { $0.worker < $1.worker }
        }
    }
}
