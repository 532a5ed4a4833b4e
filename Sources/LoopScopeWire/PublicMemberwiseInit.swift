/// Marks a value type whose public memberwise init is generated from its stored properties.
///
/// Swift synthesizes memberwise inits only at `internal` access, but the agent and the tests build
/// these values in other modules. `Plugins/PublicInits` writes `public init(<each stored property>)`
/// in declaration order (optionals and properties with a value get that value as the default), so
/// a field is declared once and no init can miss it. Stored properties of a marked type must be
/// plain `public var` / `public let` with a written type; the build stops with an error otherwise.
///
/// any init in the type's body keeps Swift from synthesizing its internal memberwise init, which would
/// otherwise clash with the generated one (same labels, same module). It cannot be called.
public protocol PublicMemberwiseInit {}
