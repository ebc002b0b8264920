//! Issuing an authorization code (RFC 6749 §4.1.2): 256 random bits, stored
//! only as a hash, bound to the client, redirect URI, scopes, nonce, PKCE
//! challenge and the session's authentication, valid for `code_ttl`
//! seconds and redeemable once (`grant_code`).

use super::authorize::AuthorizeRequest;
use super::client_answer::ClientAnswer;
use crate::crypto::{random_token, token_hash};
use crate::model::{NewCode, SessionRecord};
use crate::state::Provider;
use crate::store::StoreError;

/// Issues a code for `request` in `session` and returns the answer that
/// carries it to the client.
pub async fn issue_code(
    provider: &Provider,
    request: &AuthorizeRequest,
    session: &SessionRecord,
) -> Result<ClientAnswer, StoreError> {
    let now = provider.now();
    let code = random_token();
    provider
        .store
        .create_code(
            &token_hash(&code),
            &NewCode {
                client_id: request.client_id.clone(),
                user_id: session.user_id.clone(),
                sid: session.sid.clone(),
                redirect_uri: request.redirect_uri.clone(),
                scope: request.scopes.join(" "),
                nonce: request.nonce.clone(),
                code_challenge: request.code_challenge.clone(),
                auth_time: session.auth_time,
                amr: session.amr.clone(),
                expires_at: now + provider.config.code_ttl,
                grant_id: None,
                resource: request.resource.clone(),
            },
            now,
        )
        .await?;
    Ok(ClientAnswer::code(request, code, &provider.config.issuer))
}
