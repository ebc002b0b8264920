//! Who may call the JSON admin API: a bearer access token (RFC 6750) that an
//! admin client obtained with client_credentials and the `gatehouse:admin`
//! scope. Users' tokens never qualify, even an admin's: the API is for
//! automation, and people have the admin screens.

use crate::oauth::scopes::ADMIN_SCOPE;
use crate::oauth::token_validation::{self, Invalid};
use crate::state::Provider;
use crate::web::onward::current_session;
use crate::web::rate_limit::client_address;
use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use serde_json::json;
use std::future::Future;
use std::pin::Pin;

/// An admin client calling the API.
#[derive(Debug, Clone)]
pub struct ApiClient {
    /// The client's id.
    pub client_id: String,
    /// The address the call came from.
    pub ip: String,
}

/// A JSON error answer (`error`, `error_description`), never cached; a 503
/// says when to try again, as the protocol endpoints' do.
pub fn error(status: StatusCode, code: &str, description: &str) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response.insert_header((header::CACHE_CONTROL, "no-store"));
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response.insert_header((header::RETRY_AFTER, "5"));
    }
    response.json(json!({ "error": code, "error_description": description }))
}

fn challenge(status: StatusCode, params: &str, code: &str, description: &str) -> HttpResponse {
    let mut response = error(status, code, description);
    let value = format!("Bearer realm=\"gatehouse-admin\"{params}");
    if let Ok(v) = header::HeaderValue::from_str(&value) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    response
}

async fn authorize(req: &HttpRequest) -> Result<ApiClient, HttpResponse> {
    let Some(provider) = req.app_data::<web::Data<Provider>>() else {
        return Err(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "the provider is not configured",
        ));
    };
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_string());
    let Some(token) = bearer.filter(|t| !t.is_empty()) else {
        // A person signed in to the screens gets a plain refusal; anyone
        // else is told how to authenticate.
        if matches!(current_session(req, provider).await, Ok(Some(_))) {
            return Err(error(
                StatusCode::FORBIDDEN,
                "forbidden",
                "the admin API takes a bearer token of an admin client, not a browser session",
            ));
        }
        return Err(challenge(
            StatusCode::UNAUTHORIZED,
            "",
            "invalid_token",
            "a bearer token with the gatehouse:admin scope is required",
        ));
    };
    let claims = match token_validation::validate(provider, &token).await {
        Ok(claims) => claims,
        Err(Invalid::Token(why)) => {
            tracing::info!(reason = %why, "admin API token refused");
            return Err(challenge(
                StatusCode::UNAUTHORIZED,
                ", error=\"invalid_token\"",
                "invalid_token",
                "the access token is invalid, expired or revoked",
            ));
        }
        Err(Invalid::Store(e)) => {
            let status = if e.is_unavailable() {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::INTERNAL_SERVER_ERROR
            };
            tracing::error!(error = %e, "admin API token check failed");
            return Err(error(status, "server_error", "try again shortly"));
        }
    };
    let has_scope = claims.scope.split(' ').any(|s| s == ADMIN_SCOPE);
    let own_token = claims.sub == claims.client_id && claims.grant_id.is_none();
    let still_admin = match provider.store.client(&claims.client_id).await {
        Ok(client) => client.is_some_and(|c| c.is_admin),
        Err(e) => {
            tracing::error!(error = %e, "admin API client check failed");
            return Err(error(
                StatusCode::SERVICE_UNAVAILABLE,
                "server_error",
                "try again shortly",
            ));
        }
    };
    if !(has_scope && own_token && still_admin) {
        return Err(challenge(
            StatusCode::FORBIDDEN,
            ", error=\"insufficient_scope\", scope=\"gatehouse:admin\"",
            "insufficient_scope",
            "the token must be an admin client's own, with the gatehouse:admin scope",
        ));
    }
    Ok(ApiClient {
        client_id: claims.client_id.clone(),
        ip: client_address(req, provider.config.trust_forwarded_for),
    })
}

impl FromRequest for ApiClient {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            authorize(&req).await.map_err(|response| {
                actix_web::error::InternalError::from_response("admin API refused", response).into()
            })
        })
    }
}
