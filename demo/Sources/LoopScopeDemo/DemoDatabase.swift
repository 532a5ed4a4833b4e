import CSQLite
import Foundation
import LoopScopeRuntime

/// A real SQLite database used through the synchronous C driver — the article's "synchronous
/// database driver in an async path" — with its connections in a resizable pool named `db`.
public enum DemoDatabase {
    /// The database file; seeded on first use.
    public static let path: String = ProcessInfo.processInfo.environment["LOOPSCOPE_DEMO_DB"] ?? "/tmp/loopscope-demo-\(getuid()).sqlite"
    public static let rows = 200_000

    /// One open connection. Used by one thread at a time (the pool guarantees it).
    public final class Connection: @unchecked Sendable {
        // `@unchecked Sendable`: the pool hands a connection to one caller at a time.
        let handle: OpaquePointer

        init(path: String) throws {
            var db: OpaquePointer?
            guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK, let db else {
                throw JobError.failed("cannot open \(path)")
            }
            handle = db
        }

        deinit { sqlite3_close(handle) }

        func exec(_ sql: String) throws {
            guard sqlite3_exec(handle, sql, nil, nil, nil) == SQLITE_OK else {
                throw JobError.failed("sqlite: \(String(cString: sqlite3_errmsg(handle)))")
            }
        }

        /// Total and count of a customer's orders: an unindexed scan, as slow code often is.
        func customerTotal(_ customer: Int) throws -> (count: Int, total: Double) {
            var stmt: OpaquePointer?
            guard sqlite3_prepare_v2(handle, "SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM orders WHERE customer = ?", -1, &stmt, nil) == SQLITE_OK else {
                throw JobError.failed("sqlite: \(String(cString: sqlite3_errmsg(handle)))")
            }
            defer { sqlite3_finalize(stmt) }
            sqlite3_bind_int64(stmt, 1, Int64(customer))
            guard sqlite3_step(stmt) == SQLITE_ROW else { throw JobError.failed("sqlite: no row") }
            return (Int(sqlite3_column_int64(stmt, 0)), sqlite3_column_double(stmt, 1))
        }
    }

    /// The connection pool of this process.
    public static let pool = ResourcePool<Connection>(name: "db", size: 2, waitLimit: 256) {
        try Connection(path: path)
    }

    /// Creates and fills the database if it is missing or incomplete.
    public static func seed() throws {
        let c = try Connection(path: path)
        try c.exec("CREATE TABLE IF NOT EXISTS orders(id INTEGER PRIMARY KEY, customer INTEGER, amount REAL)")
        var stmt: OpaquePointer?
        sqlite3_prepare_v2(c.handle, "SELECT COUNT(*) FROM orders", -1, &stmt, nil)
        sqlite3_step(stmt)
        let count = Int(sqlite3_column_int64(stmt, 0))
        sqlite3_finalize(stmt)
        guard count < rows else { return }
        try c.exec("DELETE FROM orders; BEGIN")
        var insert: OpaquePointer?
        sqlite3_prepare_v2(c.handle, "INSERT INTO orders(customer, amount) VALUES (?, ?)", -1, &insert, nil)
        for i in 0..<rows {
            sqlite3_bind_int64(insert, 1, Int64(i % 1000))
            sqlite3_bind_double(insert, 2, Double((i * 7919) % 10_000) / 100)
            sqlite3_step(insert)
            sqlite3_reset(insert)
        }
        sqlite3_finalize(insert)
        try c.exec("COMMIT")
    }

    /// `/db?customer=N`: one query through a pooled connection.
    public static let queryJob = ComputeJob("db") { input in
        let customer = try input.integer("customer", default: 42, in: 0...999)
        let (count, total) = try pool.with { try $0.customerTotal(customer) }
        return Array("customer \(customer): \(count) orders, total \(String(format: "%.2f", total))\n".utf8)
    }
}
