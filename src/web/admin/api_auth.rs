//! The admin API's door: reads the bearer token (RFC 6750 §2.1) and lets
//! the call through when `crate::admin::api_access` grants it, with the
//! RFC 6750 §3 challenge otherwise.

use crate::admin::api_access::{self, Access};
use crate::admin::Context;
use crate::audit_log::Actor;
use crate::state::Provider;
use crate::web::error::HttpError;
use crate::web::onward::current_session;
use crate::web::rate_limit::client_address;
use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use std::future::Future;
use std::pin::Pin;

/// An admin client calling the API.
#[derive(Debug, Clone)]
pub struct ApiClient {
    /// The client's id.
    pub client_id: String,
    /// The address the call came from.
    pub ip: String,
    /// The provider the call is served by.
    pub provider: web::Data<Provider>,
}

impl ApiClient {
    /// The context admin actions run in, as this client from its address.
    pub fn context(&self) -> Context<'_> {
        Context::new(
            &self.provider,
            Actor::Client(self.client_id.clone()),
            Some(self.ip.clone()),
        )
    }
}

/// A JSON error answer (`error`, `error_description`), never cached.
pub fn error(status: StatusCode, code: &'static str, description: &str) -> HttpResponse {
    HttpError::refused(status, code, description).json()
}

fn challenge(
    status: StatusCode,
    params: &str,
    code: &'static str,
    description: &str,
) -> HttpResponse {
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
    let client_id = match api_access::check(provider, &token).await {
        Ok(Access::Granted { client_id }) => client_id,
        Ok(Access::InvalidToken(why)) => {
            tracing::info!(reason = %why, "admin API token refused");
            return Err(challenge(
                StatusCode::UNAUTHORIZED,
                ", error=\"invalid_token\"",
                "invalid_token",
                "the access token is invalid, expired or revoked",
            ));
        }
        Ok(Access::InsufficientScope) => {
            return Err(challenge(
                StatusCode::FORBIDDEN,
                ", error=\"insufficient_scope\", scope=\"gatehouse:admin\"",
                "insufficient_scope",
                "the token must be an admin client's own, with the gatehouse:admin scope",
            ))
        }
        Err(e) => return Err(HttpError::from(e).json()),
    };
    if super::carries_nul(req) {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the path or query string contains a NUL character (%00)",
        ));
    }
    Ok(ApiClient {
        client_id,
        ip: client_address(req, provider.config.trust_forwarded_for),
        provider: provider.clone(),
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
