//! Reading request parameters: the query string for GET, an
//! `application/x-www-form-urlencoded` body for POST (RFC 6749 §3.1, §3.2),
//! each field of which has at most `model::limits::FORM_FIELD` bytes.

use crate::model::limits;
use crate::oauth::params::Params;
use actix_web::http::Method;
use actix_web::HttpRequest;

/// The parameters of a GET or form POST.
pub fn read(req: &HttpRequest, body: &[u8]) -> Result<Params, String> {
    if req.method() == Method::POST {
        form(req, body)
    } else {
        Ok(Params::parse(req.query_string().as_bytes()))
    }
}

/// The parameters of a form POST; anything but a form body is refused.
pub fn form(req: &HttpRequest, body: &[u8]) -> Result<Params, String> {
    let content_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    if !media_type.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err("the request body must be application/x-www-form-urlencoded".into());
    }
    let params = Params::parse(body);
    if let Some(name) = params.first_longer_than(limits::FORM_FIELD) {
        let name: String = name.chars().take(40).collect();
        return Err(format!(
            "parameter {name} is longer than {} bytes",
            limits::FORM_FIELD
        ));
    }
    Ok(params)
}
