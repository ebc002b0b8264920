//! Scopes with a meaning of their own to Gatehouse.

/// The scope that opens the JSON admin API; only admin clients may hold it.
pub const ADMIN_SCOPE: &str = "gatehouse:admin";
