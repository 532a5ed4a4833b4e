import Foundation
import Logging

/// Bootstraps swift-log once: to stderr, or to a file while the dashboard owns the terminal.
enum LoggingSetup {
    static func bootstrap(toFile path: String?, level: Logger.Level = .info) {
        if let path {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            if let handle = FileHandle(forWritingAtPath: path) {
                handle.seekToEndOfFile()
                LoggingSystem.bootstrap { label in
                    FileLogHandler(label: label, handle: handle, level: level)
                }
                return
            }
        }
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
    }
}

/// Writes log lines to a file.
struct FileLogHandler: LogHandler {
    let label: String
    let handle: FileHandle
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    init(label: String, handle: FileHandle, level: Logger.Level) {
        self.label = label
        self.handle = handle
        self.logLevel = level
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let level = event.level
        let message = event.message
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        let meta = merged.isEmpty ? "" : " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        handle.write(Data("\(Date()) \(level) \(label): \(message)\(meta)\n".utf8))
    }
}
