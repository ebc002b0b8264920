//! Resetting the state between tests (`POST /test/v1/reset`): users,
//! clients, groups, APIs, sessions and grants are deleted, the clock
//! returns to real time, and the seed file the server started with is read
//! and loaded again, so one process serves a whole suite with a clean
//! state per test. The signing keys stay, so that resource servers under
//! test need not fetch the JWKS again, and the audit log stays, with this
//! reset in it.

use super::{event, record, test_clock, TestModeError};
use crate::state::Provider;

/// What a reset left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reset {
    /// Clients the seed loaded.
    pub clients: usize,
    /// Users the seed loaded.
    pub users: usize,
}

/// Empties the state and loads the seed again.
pub async fn reset(provider: &Provider, ip: &str) -> Result<Reset, TestModeError> {
    let clock = test_clock(provider)?;
    // Read before anything is deleted: a seed file broken since start-up
    // leaves the state as it was, and says why.
    let seed = match &provider.config.seed {
        Some(path) => Some(
            crate::seed::read(path)
                .map_err(|e| {
                    TestModeError::Fault(format!("cannot read the seed {}: {e}", path.display()))
                })?
                .for_test_mode(),
        ),
        None => None,
    };
    provider.store.empty_for_reset().await?;
    clock.reset();
    let now = provider.now();
    if let Some(seed) = &seed {
        seed.apply(&provider.store, now)
            .await
            .map_err(|e| TestModeError::Fault(format!("cannot load the seed: {e}")))?;
    }
    if !provider.config.upstreams.0.is_empty() {
        crate::seed::load_config_upstreams(&provider.store, &provider.config.upstreams.0, now)
            .await
            .map_err(|e| TestModeError::Fault(format!("cannot load the upstreams: {e}")))?;
    }
    provider.rate_limiter.clear();
    if let Err(e) = provider.refresh_cors_origins().await {
        tracing::warn!(error = %e, "reloading the allowed origins after a reset failed");
    }
    let done = Reset {
        clients: seed.as_ref().map_or(0, |s| s.client_count()),
        users: seed.as_ref().map_or(0, |s| s.user_count()),
    };
    tracing::info!(
        clients = done.clients,
        users = done.users,
        "test mode: state reset"
    );
    let event = event("test_mode.reset")
        .detail("clients", done.clients.to_string())
        .detail("users", done.users.to_string());
    record(provider, ip, event).await;
    Ok(done)
}
