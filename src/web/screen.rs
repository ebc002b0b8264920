//! What every screen handler works with: the request, the shared state and
//! the pages, taken as one extractor so that a handler's signature names
//! only what is particular to it (its path, its form, the admin acting).

use super::pages::Pages;
use crate::state::Provider;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use std::future::{ready, Ready};

/// The request, the provider (shared state) and the pages (templates);
/// handlers take it apart in their signature:
/// `Screen(req, provider, pages): Screen`.
pub struct Screen(
    pub HttpRequest,
    pub web::Data<Provider>,
    pub web::Data<Pages>,
);

/// The provider and the pages a request is served with, for extractors.
pub fn shared(
    req: &HttpRequest,
) -> Result<(web::Data<Provider>, web::Data<Pages>), actix_web::Error> {
    match (
        req.app_data::<web::Data<Provider>>(),
        req.app_data::<web::Data<Pages>>(),
    ) {
        (Some(provider), Some(pages)) => Ok((provider.clone(), pages.clone())),
        _ => Err(actix_web::error::ErrorInternalServerError(
            "the provider is not configured",
        )),
    }
}

impl FromRequest for Screen {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(shared(req).map(|(provider, pages)| Screen(req.clone(), provider, pages)))
    }
}
