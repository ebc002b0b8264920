//! The one way a screen reads a posted form: the extractor [`PostedForm`]
//! parses the body as `application/x-www-form-urlencoded` (a 400 page when
//! it cannot, or when a field is repeated, carries a NUL character or is
//! over `model::limits::FORM_FIELD`) and checks its CSRF token against the
//! browser's cookie (double submit, `cookies::csrf_ok`). Each screen decides what a failed
//! check shows (its own form again, with a sentence), so the result of the
//! check is carried, not acted on here.

use super::cookies;
use super::params;
use crate::oauth::params::Params;
use crate::web::screen::shared;
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest};
use std::future::Future;
use std::pin::Pin;

/// A posted form, read, with its CSRF token checked.
pub struct PostedForm {
    fields: Params,
    csrf_ok: bool,
}

impl PostedForm {
    /// A field's value, if it was sent once.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).ok().flatten()
    }

    /// All the fields.
    pub fn into_fields(self) -> Params {
        self.fields
    }

    /// Whether the form carried this browser's CSRF token.
    pub fn csrf_ok(&self) -> bool {
        self.csrf_ok
    }
}

impl FromRequest for PostedForm {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Bytes::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let body = body.await?;
            let (provider, pages) = shared(&req)?;
            // No screen's form repeats a field or carries a NUL character
            // (RFC 6749 §3.1; `Params`): such a form is refused whole, not
            // read as if the field were empty.
            let read = params::form(&req, &body).and_then(|fields| match fields.first_defect() {
                Some(defect) => Err(defect.to_string()),
                None => Ok(fields),
            });
            match read {
                Ok(fields) => {
                    let token = fields.get("csrf").ok().flatten();
                    let csrf_ok = cookies::csrf_ok(&req, &provider.config, token);
                    Ok(PostedForm { fields, csrf_ok })
                }
                Err(why) => {
                    let page =
                        pages.error(StatusCode::BAD_REQUEST, "This form could not be read", &why);
                    Err(
                        actix_web::error::InternalError::from_response("unreadable form", page)
                            .into(),
                    )
                }
            }
        })
    }
}
