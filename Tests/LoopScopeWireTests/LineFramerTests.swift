import Testing
import LoopScopeWire

@Suite struct LineFramerTests {
    func lines(_ f: inout LineFramer) -> [LineFramer.Item] {
        var out: [LineFramer.Item] = []
        while let i = f.next() { out.append(i) }
        return out
    }

    @Test func splitsLinesAcrossChunksAndStripsCarriageReturns() {
        var f = LineFramer(maxLineBytes: 100)
        f.append(Array("{\"a\":1}\r\n{\"b\"".utf8))
        #expect(lines(&f) == [.line(Array("{\"a\":1}".utf8))])
        f.append(Array(":2}\n\n   \n".utf8))
        #expect(lines(&f) == [.line(Array("{\"b\":2}".utf8))])
    }

    @Test func reportsAnOversizedLineOnceAndKeepsTheStreamUsable() {
        var f = LineFramer(maxLineBytes: 10)
        f.append(Array(repeating: UInt8(ascii: "x"), count: 25))
        #expect(lines(&f).isEmpty)
        f.append(Array(repeating: UInt8(ascii: "x"), count: 5) + Array("\nok\n".utf8))
        #expect(lines(&f) == [.tooLong(bytes: 30), .line(Array("ok".utf8))])
    }

    @Test func framesAReadOfManyShortLinesInLinearTime() {
        // Found with the control-line fuzzing harness: each line returned was cut from the front
        // of the buffer, copying the rest of the read, so the time grew with the square of the
        // lines in one read (a 140 KB input of 70 000 requests took 25 s in the harness).
        var f = LineFramer()
        f.append(Array(repeating: UInt8(ascii: "\n"), count: 1_000_000) + Array("{\"op\":\"snapshot\"}\r\n".utf8))
        var items: [LineFramer.Item] = []
        let elapsed = ContinuousClock().measure { items = lines(&f) }
        #expect(items == [.line(Array("{\"op\":\"snapshot\"}".utf8))])
        #expect(elapsed < .seconds(5), "framing took \(elapsed)")
    }

    @Test func countsEveryLineTheSameWhateverTheReadSize() {
        let bytes = Array("{\"a\":1}\r\n \t\n\(String(repeating: "x", count: 30))\nok\nrest".utf8)
        var whole = LineFramer(maxLineBytes: 10)
        whole.append(bytes)
        let expected = lines(&whole)
        #expect(expected == [.line(Array("{\"a\":1}".utf8)), .tooLong(bytes: 30), .line(Array("ok".utf8))])
        for size in 1...bytes.count {
            var f = LineFramer(maxLineBytes: 10)
            var got: [LineFramer.Item] = []
            for start in stride(from: 0, to: bytes.count, by: size) {
                f.append(bytes[start..<min(bytes.count, start + size)])
                got += lines(&f)
            }
            #expect(got == expected, "read size \(size)")
        }
    }
}

@Suite struct ProtocolVersionTests {
    @Test func picksTheNewestSharedVersion() {
        #expect(ProtocolVersion.negotiate(offered: [1, 2, 3], supported: [1, 2]) == 2)
        #expect(ProtocolVersion.negotiate(offered: [7], supported: [1]) == nil)
    }
}

@Suite struct UnitsTests {
    @Test func formatsDurationsRatesAndUptime() {
        #expect(Units.micros(41_200.0) == "41.2ms")
        #expect(Units.micros(300.0) == "0.3ms")
        #expect(Units.micros(1_500_000.0) == "1.5s")
        #expect(Units.micros(0.0) == "-")
        #expect(Units.rate(1830) == "1,830")
        #expect(Units.uptime(192) == "00:03:12")
        #expect(Units.bytes(2048) == "2.0 KB")
    }
}
