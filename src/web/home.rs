//! The home page, the embedded static files and the site icon.

use super::onward::current_session;
use super::pages::Pages;
use crate::web::screen::Screen;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use serde_json::json;

/// GET /
pub async fn home(Screen(req, provider, pages): Screen) -> HttpResponse {
    let username = match current_session(&req, &provider).await {
        Ok(Some((_, user))) => Some(user.username),
        Ok(None) => None,
        Err(e) => return pages.fail(&e),
    };
    pages.render(
        StatusCode::OK,
        "home.html",
        &json!({ "username": username }),
    )
}

/// Gatehouse's own logo as the site icon.
const FAVICON: &str = include_str!("../../static/favicon.svg");

/// GET /favicon.ico: the deployment's logo, or Gatehouse's. Pages name their
/// icon with `<link rel="icon">`; this answers tools and browsers that ask
/// the conventional address anyway, so none of them logs a missing file.
pub async fn favicon(pages: web::Data<Pages>) -> HttpResponse {
    match pages.logo() {
        Some(logo) => logo_response(logo),
        None => HttpResponse::Ok()
            .content_type("image/svg+xml")
            .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
            .body(FAVICON),
    }
}

fn logo_response(logo: &super::pages::Logo) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(logo.content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(logo.bytes.clone())
}

/// GET /static/{file}: the stylesheet and the form_post script, embedded.
pub async fn static_file(path: web::Path<String>, pages: web::Data<Pages>) -> HttpResponse {
    let (body, content_type) = match path.as_str() {
        "gatehouse.css" => (
            include_str!("../../static/gatehouse.css"),
            "text/css; charset=utf-8",
        ),
        "form_post.js" => (
            include_str!("../../static/form_post.js"),
            "text/javascript; charset=utf-8",
        ),
        "passkey.js" => (
            include_str!("../../static/passkey.js"),
            "text/javascript; charset=utf-8",
        ),
        "theme.css" => {
            return HttpResponse::Ok()
                .content_type("text/css; charset=utf-8")
                .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
                .body(pages.theme_css().to_string())
        }
        "logo" => {
            if let Some(logo) = pages.logo() {
                return logo_response(logo);
            }
            return pages.error(
                StatusCode::NOT_FOUND,
                "Page not found",
                "There is nothing at this address.",
            );
        }
        "favicon.svg" => (FAVICON, "image/svg+xml"),
        _ => {
            return pages.error(
                StatusCode::NOT_FOUND,
                "Page not found",
                "There is nothing at this address.",
            )
        }
    };
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(body)
}
