//! The device authorization endpoint (RFC 8628 §3.1–3.2): a device that
//! cannot show a browser asks for a device code (which it will poll the
//! token endpoint with) and a user code (which its user types at
//! `verification_uri`). The client authenticates as at the token endpoint;
//! scopes and `resource` (RFC 8707) are checked as at /authorize.

use super::client_auth::{self, Presented};
use super::params::Params;
use super::token_error::TokenError;
use super::user_code;
use crate::audit_log::{Actor, Event};
use crate::crypto::{random_token, token_hash};
use crate::model::{limits, ClientRecord, NewDeviceCode, DEVICE_CODE_GRANT};
use crate::state::Provider;
use serde::Serialize;

/// How long a device code and its user code work, in seconds.
pub const LIFETIME: i64 = 600;

/// The polling interval a device starts with, in seconds.
pub const INTERVAL: i64 = 5;

/// User codes drawn before giving up on finding a free one.
const DRAWS: usize = 5;

/// The answer (RFC 8628 §3.2).
#[derive(Debug, Serialize)]
pub struct DeviceAuthorization {
    /// What the device polls the token endpoint with.
    pub device_code: String,
    /// What the user types, as `XXXX-XXXX`.
    pub user_code: String,
    /// Where the user types it.
    pub verification_uri: String,
    /// The same with the code filled in, for a QR code or a link.
    pub verification_uri_complete: String,
    /// Seconds until both codes stop working.
    pub expires_in: i64,
    /// Seconds the device waits between polls.
    pub interval: i64,
}

/// Handles a device authorization request from `ip`.
pub async fn handle(
    provider: &Provider,
    basic: Option<(String, String)>,
    params: &Params,
    ip: &str,
) -> Result<DeviceAuthorization, TokenError> {
    // A repeated `resource` is RFC 8707's error, not a malformed request.
    let resource = super::resource::requested(params).map_err(TokenError::InvalidTarget)?;
    if let Some(defect) = params.first_defect() {
        return Err(TokenError::InvalidRequest(defect.to_string()));
    }
    let presented = Presented::from_request(basic, params)?;
    let client = client_auth::authenticate_recorded(provider, &presented, ip).await?;
    if !client.allows_grant(DEVICE_CODE_GRANT) {
        return Err(TokenError::UnauthorizedClient(
            "this client may not use the device authorization grant".into(),
        ));
    }
    let api = match resource {
        Some(uri) => Some(super::resource::api_for(provider, &client, uri).await?),
        None => None,
    };
    let scope = requested_scopes(&client, api.as_deref(), params.get("scope").ok().flatten())?;

    let now = provider.now();
    let device_code = random_token();
    let mut drawn = None;
    for _ in 0..DRAWS {
        let code = user_code::generate();
        let new = NewDeviceCode {
            device_code_hash: token_hash(&device_code),
            user_code_hash: user_code::hash(&code),
            client_id: client.client_id.clone(),
            scope: scope.clone(),
            resource: api.as_ref().map(|a| a.identifier.clone()),
            interval: INTERVAL,
            expires_at: now + LIFETIME,
        };
        if provider.store.create_device_code(&new, now).await? {
            drawn = Some(code);
            break;
        }
    }
    let Some(code) = drawn else {
        return Err(TokenError::Server(
            "no free user code after several draws".into(),
        ));
    };
    let event = Event::new(
        "device.authorization_requested",
        Actor::Client(client.client_id.clone()),
    )
    .client(&client.client_id)
    .ip(ip)
    .detail("scope", scope.as_str());
    provider.audit.record(now, event).await;
    let shown = user_code::display(&code);
    let verification_uri = provider.config.endpoint("/device");
    Ok(DeviceAuthorization {
        device_code,
        verification_uri_complete: format!("{verification_uri}?user_code={shown}"),
        user_code: shown,
        verification_uri,
        expires_in: LIFETIME,
        interval: INTERVAL,
    })
}

/// The requested scopes, each allowed for the client (or its API),
/// without repeats, space-separated; `offline_access` only for a client
/// that may refresh, as at /authorize.
fn requested_scopes(
    client: &ClientRecord,
    api: Option<&crate::model::ApiRecord>,
    scope: Option<&str>,
) -> Result<String, TokenError> {
    let scope = scope.ok_or_else(|| TokenError::InvalidScope("scope is missing".into()))?;
    if scope.len() > limits::SCOPE {
        return Err(TokenError::InvalidRequest(format!(
            "scope is longer than {} bytes",
            limits::SCOPE
        )));
    }
    let mut scopes: Vec<&str> = Vec::new();
    for s in scope.split(' ').filter(|s| !s.is_empty()) {
        if !super::resource::scope_allowed(client, api, s) {
            return Err(TokenError::InvalidScope(match api {
                Some(api) => format!(
                    "scope {s:?} is neither allowed for this client nor a scope of {}",
                    api.identifier
                ),
                None => format!("scope {s:?} is not allowed for this client"),
            }));
        }
        if !scopes.contains(&s) {
            scopes.push(s);
        }
    }
    if !client.allows_grant("refresh_token") {
        scopes.retain(|s| *s != "offline_access");
    }
    if scopes.is_empty() {
        return Err(TokenError::InvalidScope("scope is empty".into()));
    }
    Ok(scopes.join(" "))
}
