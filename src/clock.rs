//! Time, injected: protocol code asks a [`Clock`] instead of the system, so
//! that expiry and TOTP windows can be tested.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// A source of the current unix time in seconds (UTC).
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Seconds since the unix epoch.
    fn now(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        unix_now()
    }
}

/// A clock that tests move by hand; starts at the system time.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl Default for ManualClock {
    fn default() -> Self {
        ManualClock(Arc::new(AtomicI64::new(unix_now())))
    }
}

impl ManualClock {
    /// Moves the clock forward.
    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Another clock moved forward by an offset that can change while it runs:
/// the clock of test mode, which tests move with `POST /test/v1/clock`.
/// Everything that asks the provider's clock follows it.
#[derive(Debug)]
pub struct OffsetClock {
    base: Arc<dyn Clock>,
    offset: AtomicI64,
}

impl OffsetClock {
    /// `base`, not moved yet.
    pub fn over(base: Arc<dyn Clock>) -> OffsetClock {
        OffsetClock {
            base,
            offset: AtomicI64::new(0),
        }
    }

    /// Moves the clock forward by `seconds` (never back: what was issued
    /// must not come back to life); returns the new offset.
    pub fn advance(&self, seconds: u32) -> i64 {
        self.offset.fetch_add(i64::from(seconds), Ordering::SeqCst) + i64::from(seconds)
    }

    /// Back to the base clock's time.
    pub fn reset(&self) {
        self.offset.store(0, Ordering::SeqCst);
    }

    /// How far ahead of the base clock this one is, in seconds.
    pub fn offset(&self) -> i64 {
        self.offset.load(Ordering::SeqCst)
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> i64 {
        self.base.now() + self.offset()
    }
}

/// The system's unix time in seconds.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
