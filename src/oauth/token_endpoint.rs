//! The token endpoint (RFC 6749 §3.2): authenticates the client, then hands
//! the request to the grant's own module. Responses are RFC 6749 §5.1 JSON.

use super::client_auth::{self, Presented};
use super::params::Params;
use super::token_error::TokenError;
use super::token_response::TokenResponse;
use crate::audit_log::{Actor, Event};
use crate::state::Provider;

/// Handles a token request: `basic` is the decoded Basic credential, if the
/// Authorization header carried one; `ip` is the caller's address, for the
/// audit log.
pub async fn handle(
    provider: &Provider,
    basic: Option<(String, String)>,
    params: &Params,
    ip: &str,
) -> Result<TokenResponse, TokenError> {
    if let Some(duplicate) = params.first_defect() {
        return Err(TokenError::InvalidRequest(duplicate.to_string()));
    }
    let grant_type = params
        .get("grant_type")
        .ok()
        .flatten()
        .ok_or_else(|| TokenError::InvalidRequest("grant_type is missing".into()))?
        .to_string();
    let presented = Presented::from_request(basic, params)?;
    let client = client_auth::authenticate_recorded(provider, &presented, ip).await?;
    let result = match grant_type.as_str() {
        "authorization_code" => super::grant_code::exchange(provider, &client, params, ip).await,
        "refresh_token" => super::grant_refresh::exchange(provider, &client, params, ip).await,
        "client_credentials" => {
            super::grant_client_credentials::exchange(provider, &client, params).await
        }
        crate::model::DEVICE_CODE_GRANT => {
            super::grant_device_code::exchange(provider, &client, params).await
        }
        other => {
            return Err(TokenError::UnsupportedGrantType(format!(
                "grant_type {other:?} is not supported"
            )))
        }
    };
    let actor = Actor::Client(client.client_id.clone());
    let response = match result {
        Ok(response) => response,
        Err(e) => {
            if let TokenError::InvalidGrant(why) = &e {
                let event = Event::new("token.refused", actor)
                    .client(&client.client_id)
                    .ip(ip)
                    .detail("grant_type", grant_type.as_str())
                    .detail("reason", why.as_str());
                provider.audit.record(provider.now(), event).await;
            }
            return Err(e);
        }
    };
    provider
        .metrics
        .tokens_issued
        .with_label_values(&[grant_type.as_str()])
        .inc();
    let name = if grant_type == "refresh_token" {
        "token.refreshed"
    } else {
        "token.issued"
    };
    let mut event = Event::new(name, actor)
        .client(&client.client_id)
        .ip(ip)
        .detail("grant_type", grant_type.as_str())
        .detail("scope", response.scope.as_str());
    if let Some(user_id) = &response.user_id {
        event = event.subject(user_id);
    }
    provider.audit.record(provider.now(), event).await;
    Ok(response)
}
