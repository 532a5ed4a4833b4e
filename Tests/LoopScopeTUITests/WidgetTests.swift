import Testing
import LoopScopeTUI
import LoopScopeWire

@Suite struct WidgetTests {
    @Test func sparklineScalesToTheLargestValue() {
        #expect(Sparkline.render([0.0, 1, 2, 3, 4, 5, 6, 7], width: 8) == "▁▂▃▄▅▆▇█")
        #expect(Sparkline.render([UInt64(5000), 10000], width: 4, maximum: 10000) == "  ▅█")
    }

    @Test func splitBarFillsItsWidthInProportion() {
        #expect(SplitBar.render(LatencySplit(queueMicros: 25, computeMicros: 50, ioMicros: 25), width: 8) == "░░████▒▒")
    }

    @Test func asciiStandInsKeepEverySparklineLevelAndSplitPartApart() {
        var b = ScreenBuffer(rows: 2, columns: 8)
        b.write(0, 0, Sparkline.render([0.0, 1, 2, 3, 4, 5, 6, 7], width: 8))
        b.write(1, 0, SplitBar.render(LatencySplit(loopWaitMicros: 25, queueMicros: 25, computeMicros: 25, ioMicros: 25), width: 8))
        b.asciify()
        #expect(b.lines == ["_.-=+*%#", "~~..##=="])
    }

    @Test func screenBufferReportsOnlyChangedRuns() {
        var a = ScreenBuffer(rows: 2, columns: 10)
        a.write(0, 0, "hello")
        var b = a
        b.write(0, 1, "a")
        b.write(1, 3, "xy", .bad)
        let runs = b.changes(from: a)
        #expect(runs.map { "\($0.row),\($0.column),\($0.text)" } == ["0,1,a", "1,3,xy"])
        #expect(runs[1].style == .bad)
        #expect(b.changes(from: b).isEmpty)
        #expect(b.changes(from: nil).count == 4)
    }

    @Test func columnsCutLongTextWithAnEllipsis() {
        #expect(Columns.left("/a/very/long/route", 8) == "/a/very…")
        #expect(Columns.right("12", 5) == "   12")
    }
}
