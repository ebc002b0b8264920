//! Discovery documents and the JWKS. Both are computed once and served from
//! memory: no database work on these paths.

use crate::oauth::discovery;
use crate::state::Provider;
use actix_web::http::header;
use actix_web::{web, HttpResponse};

/// The metadata, serialised once at start-up.
#[derive(Debug, Clone)]
pub struct Metadata(pub String);

impl Metadata {
    /// Serialises the provider metadata.
    pub fn new(config: &crate::config::Config) -> Metadata {
        Metadata(discovery::metadata(config).to_string())
    }
}

/// GET /.well-known/openid-configuration and /.well-known/oauth-authorization-server
pub async fn metadata(metadata: web::Data<Metadata>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(metadata.0.clone())
}

/// GET /jwks
pub async fn jwks(provider: web::Data<Provider>) -> HttpResponse {
    let keys = provider.keys().await;
    HttpResponse::Ok()
        .content_type("application/jwk-set+json")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(keys.jwks_json.as_str().to_string())
}
