//! Cross-origin access (Fetch standard, CORS) for the endpoints a browser
//! application calls directly: token, device authorization, userinfo, JWKS
//! and discovery. Only the origins of registered redirect URIs are allowed;
//! every other endpoint, the authorization endpoint above all, answers no
//! cross-origin request.

use crate::state::Provider;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};

/// Path endings of the endpoints that allow cross-origin calls.
const CORS_PATHS: &[&str] = &[
    "/token",
    "/device_authorization",
    "/userinfo",
    "/jwks",
    "/.well-known/openid-configuration",
    "/.well-known/oauth-authorization-server",
];

fn allowed_origin(req: &ServiceRequest) -> Option<HeaderValue> {
    let path = req.path();
    if !CORS_PATHS.iter().any(|p| path.ends_with(p)) {
        return None;
    }
    let origin = req.headers().get(header::ORIGIN)?.clone();
    let provider = req.app_data::<web::Data<Provider>>()?;
    let allowed = origin
        .to_str()
        .ok()
        .is_some_and(|o| provider.cors_origins().contains(o));
    allowed.then_some(origin)
}

/// Answers preflights and marks responses for allowed origins.
pub async fn apply(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let origin = allowed_origin(&req);
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        let mut response = HttpResponse::build(match origin {
            Some(_) => StatusCode::NO_CONTENT,
            None => StatusCode::FORBIDDEN,
        });
        response.insert_header((header::VARY, "Origin"));
        if let Some(origin) = origin {
            response
                .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, origin))
                .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST"))
                .insert_header((
                    header::ACCESS_CONTROL_ALLOW_HEADERS,
                    "Authorization, Content-Type",
                ))
                .insert_header((header::ACCESS_CONTROL_MAX_AGE, "600"));
        }
        return Ok(req.into_response(response.finish()).map_into_right_body());
    }
    let mut response = next.call(req).await?;
    if let Some(origin) = origin {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("WWW-Authenticate"),
        );
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    Ok(response.map_into_left_body())
}
