//! The HTTP layer: routes, extractors and page rendering. Handlers are thin:
//! they read the request, call protocol or account logic, and render.

mod account;
pub mod admin;
mod authorize;
mod consent;
pub mod cookies;
pub mod cors;
mod device;
mod device_authorization;
mod discovery;
mod display;
pub mod error;
pub mod form;
mod home;
mod logout;
mod onward;
pub mod ops;
pub mod pages;
mod params;
mod profile_fields;
mod qr;
pub mod rate_limit;
pub mod screen;
pub mod security_headers;
mod sign_in;
mod test_mode;
mod token;
mod userinfo;

pub use discovery::Metadata;

use actix_web::http::StatusCode;
use actix_web::{middleware, web, HttpResponse};

/// Largest request body accepted, in bytes: forms and token requests are small.
pub const MAX_BODY: usize = 64 * 1024;

/// Registers every route under the issuer's path. `/metrics` is included
/// unless it has a listener of its own; test mode's (`/test/v1/*`, and
/// the sign-in page's `/login/anyone`) only in test mode.
pub fn routes(cfg: &mut web::ServiceConfig, base_path: &str, with_metrics: bool, test_mode: bool) {
    let mut scope = web::scope(base_path)
        .route("/", web::get().to(home::home))
        .route(
            "/.well-known/openid-configuration",
            web::get().to(discovery::metadata),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            web::get().to(discovery::metadata),
        )
        .route("/jwks", web::get().to(discovery::jwks))
        .route("/authorize", web::get().to(authorize::authorize))
        .route("/authorize", web::post().to(authorize::authorize))
        .route("/authorize/resume", web::get().to(authorize::resume))
        .route("/login", web::get().to(sign_in::password::show))
        .route("/login", web::post().to(sign_in::password::submit))
        .route("/login/totp", web::get().to(sign_in::totp::show))
        .route("/login/totp", web::post().to(sign_in::totp::submit))
        .route(
            "/login/passkey/options",
            web::post().to(sign_in::passkey::options),
        )
        .route("/login/passkey", web::post().to(sign_in::passkey::submit))
        .route(
            "/upstream/{id}/start",
            web::post().to(sign_in::upstream::start),
        )
        .route(
            "/upstream/{id}/callback",
            web::get().to(sign_in::upstream::callback),
        )
        .route(
            "/upstream/{id}/signed-out",
            web::get().to(sign_in::upstream::signed_out),
        )
        .route(
            "/login/passkey/second-factor",
            web::post().to(sign_in::passkey::second_factor),
        )
        .route(
            "/login/new-password",
            web::get().to(sign_in::new_password::show),
        )
        .route(
            "/login/new-password",
            web::post().to(sign_in::new_password::submit),
        )
        .route(
            "/forgot-password",
            web::get().to(sign_in::forgot_password::show),
        )
        .route(
            "/forgot-password",
            web::post().to(sign_in::forgot_password::submit),
        )
        .route(
            "/reset-password",
            web::get().to(sign_in::reset_password::show),
        )
        .route(
            "/reset-password",
            web::post().to(sign_in::reset_password::submit),
        )
        .route("/account", web::get().to(account::page::show))
        .route(
            "/account/verify-email",
            web::post().to(account::verify_email::resend),
        )
        .route("/verify-email", web::get().to(account::verify_email::show))
        .route("/register", web::get().to(sign_in::register::show))
        .route("/register", web::post().to(sign_in::register::submit))
        .route(
            "/register/confirm",
            web::get().to(sign_in::register::show_confirm),
        )
        .route(
            "/register/confirm",
            web::post().to(sign_in::register::confirm),
        )
        .route(
            "/verify-email",
            web::post().to(account::verify_email::confirm),
        )
        .route(
            "/account/profile",
            web::post().to(account::page::update_profile),
        )
        .route(
            "/account/passkeys/options",
            web::post().to(account::passkeys::options),
        )
        .route("/account/passkeys", web::post().to(account::passkeys::add))
        .route(
            "/account/passkeys/rename",
            web::post().to(account::passkeys::rename),
        )
        .route(
            "/account/passkeys/remove",
            web::post().to(account::passkeys::remove),
        )
        .route(
            "/account/upstreams/link",
            web::post().to(account::upstreams::link),
        )
        .route(
            "/account/upstreams/unlink",
            web::post().to(account::upstreams::unlink),
        )
        .route(
            "/account/password",
            web::post().to(account::secret_forms::change_password),
        )
        .route(
            "/account/sessions/end",
            web::post().to(account::page::end_sessions),
        )
        .route(
            "/account/applications/revoke",
            web::post().to(account::page::revoke_application),
        )
        .route(
            "/account/mfa/enrol",
            web::get().to(sign_in::mfa_enrol::show),
        )
        .route(
            "/account/mfa/enrol",
            web::post().to(sign_in::mfa_enrol::confirm),
        )
        .route(
            "/account/mfa/disable",
            web::post().to(account::secret_forms::disable_mfa),
        )
        .route(
            "/account/mfa/recovery-codes",
            web::post().to(account::secret_forms::renew_recovery_codes),
        )
        .route("/consent", web::get().to(consent::show))
        .route("/consent", web::post().to(consent::submit))
        .route("/device", web::get().to(device::show))
        .route("/device", web::post().to(device::submit))
        .route(
            "/device_authorization",
            web::post().to(device_authorization::device_authorization),
        )
        .route("/token", web::post().to(token::token))
        .route("/userinfo", web::get().to(userinfo::userinfo))
        .route("/userinfo", web::post().to(userinfo::userinfo))
        .route("/introspect", web::post().to(token::introspect))
        .route("/revoke", web::post().to(token::revoke))
        .route("/end_session", web::get().to(logout::end_session))
        .route("/end_session", web::post().to(logout::end_session))
        .route("/end_session/confirm", web::post().to(logout::confirm))
        .route("/static/{file}", web::get().to(home::static_file))
        .route("/favicon.ico", web::get().to(home::favicon))
        .route("/healthz", web::get().to(ops::healthz))
        .route("/readyz", web::get().to(ops::readyz))
        .route("/invitation", web::get().to(sign_in::invitation::show))
        .route("/invitation", web::post().to(sign_in::invitation::submit));
    if with_metrics {
        scope = scope.route("/metrics", web::get().to(ops::metrics));
    }
    if test_mode {
        scope = test_mode::routes(scope)
            .route("/login/anyone", web::post().to(sign_in::anyone::submit));
    }
    let too_large =
        middleware::ErrorHandlers::new().handler(StatusCode::PAYLOAD_TOO_LARGE, error::too_large);
    cfg.service(scope.configure(admin::routes).wrap(too_large));
    if !base_path.is_empty() {
        // RFC 8414 §3: for an issuer with a path, the metadata lives at
        // /.well-known/oauth-authorization-server/{path}.
        cfg.route(
            &format!("/.well-known/oauth-authorization-server{base_path}"),
            web::get().to(discovery::metadata),
        );
    }
}

/// The path a request is routed by, below the issuer's base path (`None`
/// outside it). The router percent-decodes the path first (`/log%69n`
/// reaches `/login`), so everything that classifies a request by its path
/// reads it here, decoded the same way, never from the raw request line.
pub fn routed_path(req: &actix_web::HttpRequest) -> Option<String> {
    let provider = req.app_data::<web::Data<crate::state::Provider>>();
    let base = provider.map_or("", |provider| provider.base_path());
    req.match_info()
        .as_str()
        .strip_prefix(base)
        .map(str::to_string)
}

/// Whether `path` (from [`routed_path`]) is an endpoint programs call,
/// whose errors are JSON: the back channel, userinfo and the admin API; the
/// rest are screens.
pub fn speaks_json(path: &str) -> bool {
    matches!(
        path,
        "/token" | "/introspect" | "/revoke" | "/userinfo" | "/device_authorization"
    ) || path.starts_with("/admin/api/")
}

/// The answer to a path no route matches, or a method a route does not take.
pub async fn not_found(
    pages: web::Data<pages::Pages>,
    req: actix_web::HttpRequest,
) -> HttpResponse {
    let path = routed_path(&req).unwrap_or_default();
    if matches!(
        path.as_str(),
        "/token" | "/introspect" | "/revoke" | "/device_authorization"
    ) {
        return HttpResponse::MethodNotAllowed()
            .insert_header(("Allow", "POST"))
            .insert_header(("Cache-Control", "no-store"))
            .json(serde_json::json!({
                "error": "invalid_request",
                "error_description": "this endpoint takes POST only",
            }));
    }
    pages.error(
        StatusCode::NOT_FOUND,
        "Page not found",
        "There is nothing at this address. Check the link, or go back to the application you came from.",
    )
}
