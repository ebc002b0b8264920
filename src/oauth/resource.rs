//! Resource indicators (RFC 8707): the `resource` parameter names the API an
//! access token is for, and becomes its `aud`. It must be an absolute URI
//! without a fragment (§2), name an API the client is registered for, and
//! the API scopes asked for must be that API's. Gatehouse issues a token for
//! one API at a time, so one `resource` per request; without one, the token
//! is for the client itself (`aud` = client_id).

use super::params::Params;
use crate::model::{ApiRecord, ClientRecord};
use crate::state::Provider;
use crate::store::StoreError;
use std::sync::Arc;

/// Why a `resource` was refused: the sentence for `error_description`
/// (`invalid_target`), or a storage failure.
#[derive(Debug)]
pub enum Refused {
    /// The request's fault.
    Target(String),
    /// The database failed.
    Store(StoreError),
}

impl From<StoreError> for Refused {
    fn from(e: StoreError) -> Self {
        Refused::Store(e)
    }
}

/// Checks an API identifier: an absolute URI without fragment (RFC 8707 §2).
pub fn check_identifier(uri: &str) -> Result<(), String> {
    if uri.len() > 2000 {
        return Err("an API identifier can have at most 2000 characters".into());
    }
    match url::Url::parse(uri) {
        Ok(_) if uri.chars().any(|c| c.is_whitespace() || c.is_control()) => Err(format!(
            "{uri:?} has spaces or control characters; an API identifier has none"
        )),
        Ok(parsed) if parsed.fragment().is_none() && !uri.contains('#') => Ok(()),
        Ok(_) => Err(format!(
            "{uri:?} has a fragment; an API identifier is an absolute URI without one"
        )),
        Err(_) => Err(format!("{uri:?} is not an absolute URI")),
    }
}

/// The one `resource` of the request, if any, well formed.
pub fn requested(params: &Params) -> Result<Option<&str>, String> {
    match params.get("resource") {
        Ok(None) => Ok(None),
        Ok(Some(uri)) => check_identifier(uri).map(|()| Some(uri)),
        Err(_) => {
            Err("resource is repeated; Gatehouse issues a token for one API at a time".into())
        }
    }
}

/// The API `resource` names, provided `client` may ask tokens for it.
pub async fn api_for(
    provider: &Provider,
    client: &ClientRecord,
    resource: &str,
) -> Result<Arc<ApiRecord>, Refused> {
    if !client.apis.iter().any(|a| a == resource) {
        return Err(Refused::Target(format!(
            "this client may not ask for tokens for {resource:?}"
        )));
    }
    provider
        .store
        .api(resource)
        .await?
        .ok_or_else(|| Refused::Target(format!("there is no API {resource:?}")))
}

/// Whether `scope` may be asked for: one of the client's own scopes, or,
/// with an API, one of the API's.
pub fn scope_allowed(client: &ClientRecord, api: Option<&ApiRecord>, scope: &str) -> bool {
    client.scopes.iter().any(|s| s == scope) || api.is_some_and(|a| a.has_scope(scope))
}

/// The API a grant's tokens are for, checked against the token request's
/// `resource` (RFC 8707 §2.2): it may name the API of the grant again, and
/// nothing else; absent, the grant's own. `None` for a grant without one.
pub async fn of_grant(
    provider: &Provider,
    params: &Params,
    granted: Option<&str>,
) -> Result<Option<Arc<ApiRecord>>, Refused> {
    let asked = requested(params).map_err(Refused::Target)?;
    match (asked, granted) {
        (Some(asked), Some(granted)) if asked != granted => Err(Refused::Target(format!(
            "{asked:?} is not the resource this grant was given for"
        ))),
        (Some(asked), None) => Err(Refused::Target(format!(
            "this grant was given without a resource; {asked:?} cannot be added now"
        ))),
        (_, None) => Ok(None),
        // An API removed since the grant: its tokens can no longer be had.
        (_, Some(granted)) => provider
            .store
            .api(granted)
            .await?
            .map(Some)
            .ok_or_else(|| Refused::Target(format!("there is no API {granted:?} any more"))),
    }
}

impl From<Refused> for super::token_error::TokenError {
    fn from(e: Refused) -> Self {
        match e {
            Refused::Target(why) => super::token_error::TokenError::InvalidTarget(why),
            Refused::Store(e) => e.into(),
        }
    }
}
