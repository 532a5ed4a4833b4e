/// Values that add up field by field (a second's sums, counters), starting from zero.
package protocol Summable: Sendable {
    static var zero: Self { get }
    static func + (a: Self, b: Self) -> Self
}

extension Summable {
    package static func += (a: inout Self, b: Self) { a = a + b }
}
