//! WebAuthn ceremonies in progress (W3C Web Authentication Level 3
//! §13.4.3: a challenge is random and answers once). A ceremony's state
//! is stored in the database under the hash of the browser's random cookie
//! value and the challenge, for [`CEREMONY_TTL`] seconds, and taken out as
//! it is answered: any replica can finish it, a browser may have several
//! (one per tab), and only the browser that asked can answer.

use super::AccountError;
use crate::crypto::{random_token, token_hash};
use crate::model::CeremonyPurpose;
use crate::state::Provider;
use crate::store::StoreError;
use serde_json::Value;

/// How long a browser has to answer a WebAuthn challenge, in seconds.
pub const CEREMONY_TTL: i64 = 300;

/// The key a ceremony is stored under: the browser's cookie value and
/// the challenge, hashed. A browser may have several ceremonies at once
/// (sign-in pages in two tabs); only that browser can name any of them.
fn ceremony_key(browser: &str, challenge: &str) -> String {
    token_hash(&format!("{browser}:{challenge}"))
}

/// Whether a cookie value looks like one Gatehouse gave out.
fn is_browser_value(value: &str) -> bool {
    (32..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The challenge an answer's client data names (§5.8.1
/// `CollectedClientData.challenge`), which picks its ceremony among the
/// browser's; `None` when the client data is not JSON with one.
pub fn answered_challenge(client_data_json: &[u8]) -> Option<String> {
    let data: Value = serde_json::from_slice(client_data_json).ok()?;
    data.get("challenge")?.as_str().map(str::to_string)
}

/// Stores a ceremony's `state` for `purpose`, under the challenge in
/// `options` and the browser's cookie value `browser` (a new one when it
/// has none); returns the options as JSON for the browser and the cookie
/// value to set.
pub async fn open_ceremony<State: serde::Serialize>(
    provider: &Provider,
    (browser, options): (Option<&str>, &impl serde::Serialize),
    purpose: CeremonyPurpose,
    user_id: Option<&str>,
    state: &State,
) -> Result<(Value, String), AccountError> {
    let options = serde_json::to_value(options)
        .map_err(|e| StoreError::Corrupt(format!("WebAuthn options: {e}")))?;
    let Some(challenge) = options
        .pointer("/publicKey/challenge")
        .and_then(Value::as_str)
    else {
        return Err(StoreError::Corrupt("WebAuthn options without a challenge".into()).into());
    };
    let browser = match browser {
        Some(value) if is_browser_value(value) => value.to_string(),
        _ => random_token(),
    };
    let state = serde_json::to_string(state)
        .map_err(|e| StoreError::Corrupt(format!("WebAuthn state: {e}")))?;
    provider
        .store
        .open_ceremony(
            &ceremony_key(&browser, challenge),
            purpose,
            user_id,
            &state,
            provider.now() + CEREMONY_TTL,
        )
        .await?;
    Ok((options, browser))
}

/// Takes the ceremony of the browser's cookie value and the answer's
/// challenge out of the store: `None` when there is none, it expired, it
/// was for another purpose or (with `user_id`) another user. Either way
/// it cannot be used again.
pub async fn take_ceremony<State: serde::de::DeserializeOwned>(
    provider: &Provider,
    (browser, challenge): (Option<&str>, &str),
    purpose: CeremonyPurpose,
    user_id: Option<&str>,
) -> Result<Option<State>, AccountError> {
    let Some(browser) = browser else {
        return Ok(None);
    };
    let Some(ceremony) = provider
        .store
        .take_ceremony(&ceremony_key(browser, challenge), provider.now())
        .await?
    else {
        return Ok(None);
    };
    if ceremony.purpose != purpose.as_str() || ceremony.user_id.as_deref() != user_id {
        return Ok(None);
    }
    let state = serde_json::from_str(&ceremony.state)
        .map_err(|e| StoreError::Corrupt(format!("WebAuthn state: {e}")))?;
    Ok(Some(state))
}
