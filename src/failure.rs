//! Failures behind a request that its sender cannot fix: the database is
//! out of reach for a moment (worth a 503 and a retry) or something broke
//! (a 500). Every layer's error that can end this way says which, so the
//! web layer answers both the same way everywhere.

/// An error that ends a request on the server's side.
pub trait Failure: std::fmt::Display {
    /// Whether it is the database being unreachable (down, restarting, pool
    /// exhausted): a passing outage rather than a fault.
    fn is_unavailable(&self) -> bool;
}
