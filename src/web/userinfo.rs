//! GET and POST /userinfo with a Bearer token (RFC 6750 §2.1 header, §2.2
//! form body), errors per RFC 6750 §3.

use super::error::HttpError;
use super::params;
use crate::oauth::userinfo::{self, UserinfoError};
use crate::state::Provider;
use actix_web::http::{header, Method};
use actix_web::{web, HttpRequest, HttpResponse};

/// The Bearer token from the header or (POST) the form body.
fn bearer(req: &HttpRequest, body: &[u8]) -> Result<String, UserinfoError> {
    let from_header = match req.headers().get(header::AUTHORIZATION) {
        Some(value) => {
            let value = value.to_str().map_err(|_| {
                UserinfoError::InvalidRequest("malformed Authorization header".into())
            })?;
            match value.split_once(' ') {
                Some((scheme, token))
                    if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
                {
                    Some(token.trim().to_string())
                }
                _ => {
                    return Err(UserinfoError::InvalidRequest(
                        "use the Bearer scheme".into(),
                    ))
                }
            }
        }
        None => None,
    };
    let from_body = if req.method() == Method::POST && !body.is_empty() {
        let form = params::form(req, body).map_err(UserinfoError::InvalidRequest)?;
        form.get("access_token")
            .map_err(|d| UserinfoError::InvalidRequest(d.to_string()))?
            .map(str::to_string)
    } else {
        None
    };
    match (from_header, from_body) {
        (Some(_), Some(_)) => Err(UserinfoError::InvalidRequest(
            "send the token once, not twice".into(),
        )),
        (Some(t), None) | (None, Some(t)) => Ok(t),
        (None, None) => Err(UserinfoError::Missing),
    }
}

/// GET or POST /userinfo
pub async fn userinfo(
    req: HttpRequest,
    body: web::Bytes,
    provider: web::Data<Provider>,
) -> HttpResponse {
    let result = match bearer(&req, &body) {
        Ok(token) => userinfo::userinfo(&provider, &token).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(claims) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(claims),
        Err(e) => HttpError::from(e).json(),
    }
}
