//! POST /token: reads the form and the Basic header, calls the protocol
//! logic, and maps [`TokenError`] to RFC 6749 §5.2 JSON in one place.

use super::params;
use crate::oauth::client_auth::parse_basic;
use crate::oauth::token;
use crate::oauth::token_error::TokenError;
use crate::state::Provider;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

/// POST /token
pub async fn token(
    req: HttpRequest,
    body: web::Bytes,
    provider: web::Data<Provider>,
) -> HttpResponse {
    let result = async {
        let params = params::form(&req, &body).map_err(TokenError::InvalidRequest)?;
        let basic = match req.headers().get(header::AUTHORIZATION) {
            Some(value) => {
                let value = value
                    .to_str()
                    .map_err(|_| TokenError::basic("malformed Authorization header"))?;
                parse_basic(value)?
            }
            None => None,
        };
        token::handle(&provider, basic, &params).await
    }
    .await;
    match result {
        Ok(response) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"))
            .json(response),
        Err(e) => error_response(&e),
    }
}

/// RFC 6749 §5.2: JSON error, 400 (401 for client authentication, with
/// `WWW-Authenticate` when Basic was tried), `Cache-Control: no-store`.
pub fn error_response(e: &TokenError) -> HttpResponse {
    let status = match e {
        TokenError::InvalidClient { .. } => StatusCode::UNAUTHORIZED,
        TokenError::Server(detail) => {
            let error_id = uuid::Uuid::new_v4();
            tracing::error!(%error_id, detail, "token endpoint failed");
            StatusCode::INTERNAL_SERVER_ERROR
        }
        _ => StatusCode::BAD_REQUEST,
    };
    if !matches!(e, TokenError::Server(_)) {
        tracing::info!(error = %e, description = e.description(), "token request refused");
    }
    let mut response = HttpResponse::build(status);
    response
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"));
    if let TokenError::InvalidClient { basic: true, .. } = e {
        response.insert_header((
            header::WWW_AUTHENTICATE,
            r#"Basic realm="gatehouse", charset="UTF-8""#,
        ));
    }
    response.json(json!({ "error": e.to_string(), "error_description": e.description() }))
}
