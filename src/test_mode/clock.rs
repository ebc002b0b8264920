//! Moving the provider's clock (`POST /test/v1/clock`): forward by some
//! seconds, or back to real time. Everything that asks the provider for
//! the time follows: codes, sessions, tokens (their `iat` and `exp`, and
//! their checks at UserInfo and introspection), TOTP steps, throttles,
//! pruning and the keys' retirement: a move runs a pruning round at once. Relying parties keep their own
//! clocks: a token minted after a move is issued in the moved time.

use super::{event, record, test_clock, TestModeError};
use crate::state::Provider;

/// The longest single move: ten years.
pub const MAX_ADVANCE: i64 = 10 * 366 * 86_400;

/// Where the clock stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockReading {
    /// Seconds ahead of real time.
    pub offset: i64,
    /// The provider's unix time.
    pub now: i64,
}

/// The clock's offset and time.
pub fn read(provider: &Provider) -> Result<ClockReading, TestModeError> {
    let clock = test_clock(provider)?;
    Ok(ClockReading {
        offset: clock.offset(),
        now: provider.now(),
    })
}

/// Moves the clock forward by `seconds` (1 to [`MAX_ADVANCE`]). Never back:
/// what has expired stays expired, as in real time.
pub async fn advance(
    provider: &Provider,
    ip: &str,
    seconds: i64,
) -> Result<ClockReading, TestModeError> {
    let clock = test_clock(provider)?;
    if !(1..=MAX_ADVANCE).contains(&seconds) {
        return Err(TestModeError::Invalid(format!(
            "advance must be 1 to {MAX_ADVANCE} seconds: the clock only moves forward \
             ({{\"reset\": true}} returns to real time)"
        )));
    }
    let offset = clock.advance(seconds as u32);
    tracing::info!(seconds, offset, "test mode: the clock moved forward");
    // What expired in the new time goes now, not at the next round: rows,
    // token families, retired keys past the tokens they signed.
    crate::housekeeping::prune(provider).await;
    let event = event("test_mode.clock_advanced")
        .detail("seconds", seconds.to_string())
        .detail("offset", offset.to_string());
    record(provider, ip, event).await;
    read(provider)
}

/// Returns the clock to real time.
pub async fn reset(provider: &Provider, ip: &str) -> Result<ClockReading, TestModeError> {
    let clock = test_clock(provider)?;
    let was = clock.offset();
    clock.reset();
    // Rows that expired in the moved time were pruned; answers cached
    // before the move must not bring them back now that time has gone
    // back: what has expired stays expired.
    provider.store.changed().await;
    tracing::info!(was, "test mode: the clock is back to real time");
    let event = event("test_mode.clock_reset").detail("offset_was", was.to_string());
    record(provider, ip, event).await;
    read(provider)
}
