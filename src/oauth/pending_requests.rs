//! Authorization requests kept while the user is on a screen (sign-in,
//! two-step set-up, consent). A validated request (RFC 6749 §4.1.1) is
//! saved under a random id that only its hash is stored by; the screens
//! carry the id, and `/authorize/resume` hands it back to
//! `journey::resume`.

use super::authorize::AuthorizeRequest;
use crate::crypto::{random_token, token_hash};
use crate::model::ClientRecord;
use crate::state::Provider;
use crate::store::StoreError;

/// Whether `id` has the shape of a pending-request id (43 base64url
/// characters): anything else is refused before it reaches a query or a
/// Location header.
pub fn is_request_id(id: &str) -> bool {
    id.len() == 43
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Saves `request` for `interaction_ttl` seconds; returns its id.
pub async fn save(provider: &Provider, request: &AuthorizeRequest) -> Result<String, StoreError> {
    let id = random_token();
    let now = provider.now();
    let json = serde_json::to_string(request).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    provider
        .store
        .save_auth_request(
            &token_hash(&id),
            &request.client_id,
            &json,
            now,
            now + provider.config.interaction_ttl,
        )
        .await?;
    Ok(id)
}

/// The live request saved under `id`, with its (still registered) client.
pub async fn load(
    provider: &Provider,
    id: &str,
) -> Result<Option<(AuthorizeRequest, ClientRecord)>, StoreError> {
    if !is_request_id(id) {
        return Ok(None);
    }
    let Some((json, _created)) = provider
        .store
        .auth_request(&token_hash(id), provider.now())
        .await?
    else {
        return Ok(None);
    };
    let request: AuthorizeRequest = serde_json::from_str(&json)
        .map_err(|e| StoreError::Corrupt(format!("auth request: {e}")))?;
    let client = provider.store.client(&request.client_id).await?;
    Ok(client.map(|c| (request, c)))
}

/// Forgets the request saved under `id` (answered, or refused).
pub async fn forget(provider: &Provider, id: &str) -> Result<(), StoreError> {
    provider.store.delete_auth_request(&token_hash(id)).await
}
