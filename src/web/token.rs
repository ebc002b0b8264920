//! The back-channel endpoints that authenticate a client: POST /token,
//! /introspect (RFC 7662) and /revoke (RFC 7009). They read the form and the
//! Basic header, call the protocol logic, and answer errors through
//! [`HttpError`] (RFC 6749 §5.2 JSON).

use super::error::HttpError;
use super::params;
use super::rate_limit::client_address;
use crate::model::ClientRecord;
use crate::oauth::client_auth::{self, parse_basic, Presented};
use crate::oauth::params::Params;
use crate::oauth::token_error::TokenError;
use crate::oauth::{introspect, revoke, token_endpoint};
use crate::state::Provider;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

/// The form and the decoded Basic credentials of a back-channel request.
pub(super) fn read(
    req: &HttpRequest,
    body: &[u8],
) -> Result<(Params, Option<(String, String)>), TokenError> {
    let params = params::form(req, body).map_err(TokenError::InvalidRequest)?;
    let basic = match req.headers().get(header::AUTHORIZATION) {
        Some(value) => {
            let value = value
                .to_str()
                .map_err(|_| TokenError::basic("malformed Authorization header"))?;
            parse_basic(value)?
        }
        None => None,
    };
    Ok((params, basic))
}

/// Authenticates the calling client of introspection or revocation.
async fn client(
    req: &HttpRequest,
    provider: &Provider,
    params: &Params,
    basic: Option<(String, String)>,
) -> Result<ClientRecord, TokenError> {
    let presented = Presented::from_request(basic, params)?;
    let ip = client_address(req, provider.config.trust_forwarded_for);
    client_auth::authenticate_recorded(provider, &presented, &ip).await
}

/// Token, introspection and revocation answers are never cached (RFC 6749
/// §5.1, RFC 7662 §2.2).
pub(super) fn no_store(
    mut builder: actix_web::HttpResponseBuilder,
) -> actix_web::HttpResponseBuilder {
    builder
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"));
    builder
}

/// POST /token
pub async fn token(
    req: HttpRequest,
    body: web::Bytes,
    provider: web::Data<Provider>,
) -> HttpResponse {
    let result = async {
        let (params, basic) = read(&req, &body)?;
        let ip = client_address(&req, provider.config.trust_forwarded_for);
        token_endpoint::handle(&provider, basic, &params, &ip).await
    }
    .await;
    match result {
        Ok(response) => no_store(HttpResponse::Ok()).json(response),
        Err(e) => HttpError::from(e).json(),
    }
}

/// POST /introspect (RFC 7662)
pub async fn introspect(
    req: HttpRequest,
    body: web::Bytes,
    provider: web::Data<Provider>,
) -> HttpResponse {
    let result = async {
        let (params, basic) = read(&req, &body)?;
        let client = client(&req, &provider, &params, basic).await?;
        introspect::introspect(&provider, &client, &params).await
    }
    .await;
    match result {
        Ok(answer) => no_store(HttpResponse::Ok()).json(answer),
        Err(e) => HttpError::from(e).json(),
    }
}

/// POST /revoke (RFC 7009)
pub async fn revoke(
    req: HttpRequest,
    body: web::Bytes,
    provider: web::Data<Provider>,
) -> HttpResponse {
    let result = async {
        let (params, basic) = read(&req, &body)?;
        let client = client(&req, &provider, &params, basic).await?;
        let ip = client_address(&req, provider.config.trust_forwarded_for);
        revoke::revoke(&provider, &client, &params, &ip).await
    }
    .await;
    match result {
        Ok(()) => no_store(HttpResponse::Ok()).finish(),
        Err(e) => HttpError::from(e).json(),
    }
}
