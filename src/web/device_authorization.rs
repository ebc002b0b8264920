//! POST /device_authorization (RFC 8628 §3.1–3.2): reads the form and the
//! Basic header as the token endpoint does, and answers JSON that is never
//! cached; errors are RFC 6749 §5.2 JSON through [`HttpError`].

use super::error::HttpError;
use super::rate_limit::client_address;
use super::token::{no_store, read};
use crate::oauth::device_authorization;
use crate::state::Provider;
use actix_web::{web, HttpRequest, HttpResponse};

/// POST /device_authorization
pub async fn device_authorization(
    req: HttpRequest,
    body: web::Bytes,
    provider: web::Data<Provider>,
) -> HttpResponse {
    let result = async {
        let (params, basic) = read(&req, &body)?;
        let ip = client_address(&req, provider.config.trust_forwarded_for);
        device_authorization::handle(&provider, basic, &params, &ip).await
    }
    .await;
    match result {
        Ok(answer) => no_store(HttpResponse::Ok()).json(answer),
        Err(e) => HttpError::from(e).json(),
    }
}
