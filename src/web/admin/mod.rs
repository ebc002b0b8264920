//! Administration over HTTP: the admin screens for people (`/admin`) and
//! the JSON admin API for automation (`/admin/api/v1`).

pub mod api;
mod api_apis;
mod api_auth;
mod api_clients;
mod api_groups;
mod api_invitations;
mod api_outbox;
mod api_passkeys;
mod api_system;
mod api_upstreams;
mod api_users;
mod ui;
mod ui_apis;
mod ui_client_form;
mod ui_clients;
mod ui_groups;
mod ui_invitations;
mod ui_outbox;
mod ui_system;
mod ui_upstream_form;
mod ui_upstreams;
mod ui_users;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

/// Registers the API, then the screens (the API's scope must come first:
/// the screens' scope would otherwise take its paths).
pub fn routes(cfg: &mut web::ServiceConfig) {
    api::routes(cfg);
    cfg.service(
        web::scope("/admin")
            .route("", web::get().to(index))
            .route("/", web::get().to(index))
            .route("/users", web::get().to(ui_users::list))
            .route("/users", web::post().to(ui_users::create))
            .route("/users/new", web::get().to(ui_users::new))
            .route("/users/{id}", web::get().to(ui_users::show))
            .route("/users/{id}", web::post().to(ui_users::update))
            .route("/users/{id}/{action}", web::post().to(ui_users::act))
            .route("/groups", web::get().to(ui_groups::list))
            .route("/groups", web::post().to(ui_groups::create))
            .route("/groups/{name}", web::get().to(ui_groups::show))
            .route("/groups/{name}", web::post().to(ui_groups::update))
            .route("/groups/{name}/{action}", web::post().to(ui_groups::act))
            .route("/clients", web::get().to(ui_clients::list))
            .route("/clients", web::post().to(ui_clients::create))
            .route("/clients/new", web::get().to(ui_clients::new))
            .route("/clients/{client_id}", web::get().to(ui_clients::show))
            .route("/clients/{client_id}", web::post().to(ui_clients::update))
            .route(
                "/clients/{client_id}/{action}",
                web::post().to(ui_clients::act),
            )
            .route("/apis", web::get().to(ui_apis::list))
            .route("/apis", web::post().to(ui_apis::create))
            .route("/apis/{identifier}", web::get().to(ui_apis::show))
            .route("/apis/{identifier}", web::post().to(ui_apis::update))
            .route("/apis/{identifier}/{action}", web::post().to(ui_apis::act))
            .route("/scopes", web::get().to(ui_apis::scopes))
            .route("/scopes", web::post().to(ui_apis::save_scope))
            .route("/scopes/delete", web::post().to(ui_apis::delete_scope))
            .route("/upstreams", web::get().to(ui_upstreams::list))
            .route("/upstreams", web::post().to(ui_upstreams::create))
            .route("/upstreams/{id}", web::get().to(ui_upstreams::show))
            .route("/upstreams/{id}", web::post().to(ui_upstreams::update))
            .route(
                "/upstreams/{id}/{action}",
                web::post().to(ui_upstreams::act),
            )
            .route("/grants/revoke", web::post().to(ui_system::revoke_grant))
            .route("/keys", web::get().to(ui_system::keys))
            .route("/keys/rotate", web::post().to(ui_system::rotate))
            .route("/audit", web::get().to(ui_system::audit))
            .route("/outbox", web::get().to(ui_outbox::list))
            .route("/outbox/{id}/retry", web::post().to(ui_outbox::retry))
            .default_service(web::to(unknown)),
    );
}

/// GET /admin: the users list.
async fn index(_admin: ui::AdminUser, provider: web::Data<crate::state::Provider>) -> HttpResponse {
    let base = provider.config.base_path();
    crate::web::onward::redirect(StatusCode::FOUND, &format!("{base}/admin/users"))
}

/// Anything else under /admin: still only for admins.
async fn unknown(
    _admin: ui::AdminUser,
    pages: web::Data<crate::web::pages::Pages>,
) -> HttpResponse {
    pages.error(
        StatusCode::NOT_FOUND,
        "Page not found",
        "There is nothing at this address in the admin pages.",
    )
}

/// Whether the request's path or query carries a NUL character (`%00`),
/// which no name, id or search can hold (and Postgres cannot compare).
/// Both doors ask it once the caller is let in, so that they answer first.
fn carries_nul(req: &actix_web::HttpRequest) -> bool {
    req.uri().path().contains("%00") || req.query_string().contains("%00")
}

/// New or changed redirect URIs are new CORS origins: this server picks
/// them up at once (other replicas within 30 seconds).
async fn refresh_origins(provider: &crate::state::Provider) {
    if let Err(e) = provider.refresh_cors_origins().await {
        tracing::warn!(error = %e, "reloading the allowed origins failed");
    }
}
