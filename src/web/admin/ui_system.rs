//! The admin screens for signing keys and the audit log, and revoking a
//! grant from a user's or a client's page.

use super::ui::{self, AdminForm, AdminUser};
use crate::admin::{audit, tokens};
use crate::model::{AuditFilter, AuditRecord};
use crate::oauth::params::Params;
use crate::web::display;
use crate::web::screen::Screen;
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde_json::{json, Value};

/// An audit event as the screens show it.
pub fn event_row(e: &AuditRecord) -> Value {
    json!({
        "id": e.id, "when": display::date_time(e.at), "event": e.event,
        "failure": e.event.ends_with("failure") || e.event.ends_with("detected") || e.event.ends_with("refused"),
        "actor": e.actor_name.clone().unwrap_or_else(|| e.actor.clone()),
        "username": e.username, "user_id": e.user_id, "client_id": e.client_id,
        "ip": e.ip, "detail": e.detail,
    })
}

/// GET /admin/keys
pub async fn keys(admin: AdminUser, Screen(req, provider, pages): Screen) -> HttpResponse {
    let keys = match tokens::signing_keys(&admin.context(&req, &provider)).await {
        Ok(k) => k,
        Err(e) => return ui::failed(&pages, &e),
    };
    let held = provider.keys().await;
    let signs_here = |kid: &str| held.signers().iter().any(|k| k.kid == kid);
    ui::render(
        &req,
        &provider,
        &pages,
        &admin,
        (StatusCode::OK, "admin_keys.html", "keys"),
        json!({
            "keys": keys.iter().map(|k| json!({
                "kid": k.kid, "alg": k.alg, "state": k.state,
                "created": display::date_time(k.created_at),
                "retired": k.retired_at.map(display::date_time),
                "signing_here": signs_here(&k.kid),
            })).collect::<Vec<_>>(),
            "notice": ui::notice(&req),
        }),
    )
}

/// POST /admin/keys/rotate
pub async fn rotate(
    AdminForm(admin, _): AdminForm,
    Screen(req, provider, pages): Screen,
) -> HttpResponse {
    let ctx = admin.context(&req, &provider);
    match tokens::rotate_keys(&ctx, &provider.config.signing_alg).await {
        Ok(_) => {
            crate::key_lifecycle::reload_keys(&provider).await;
            ui::done(&provider, "/keys", "keys-rotated")
        }
        Err(e) => ui::failed(&pages, &e),
    }
}

/// POST /admin/grants/revoke: `grant_id`, and `back` (`user:ID` or
/// `client:ID`, the page to return to; nothing else is followed).
pub async fn revoke_grant(
    AdminForm(admin, form): AdminForm,
    Screen(req, provider, pages): Screen,
) -> HttpResponse {
    let grant_id = form.get("grant_id").ok().flatten().unwrap_or("");
    let back = match form
        .get("back")
        .ok()
        .flatten()
        .and_then(|b| b.split_once(':'))
    {
        Some(("user", id)) => format!("/users/{}", url_segment(id)),
        Some(("client", id)) => format!("/clients/{}", url_segment(id)),
        _ => "/users".to_string(),
    };
    let ctx = admin.context(&req, &provider);
    match tokens::revoke_grant(&ctx, grant_id).await {
        Ok(()) => ui::done(&provider, &back, "grant-revoked"),
        Err(e) => ui::failed(&pages, &e),
    }
}

/// A path segment, percent-encoded so it cannot leave the admin pages.
fn url_segment(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

const PAGE: i64 = 50;

/// GET /admin/audit
pub async fn audit(admin: AdminUser, Screen(req, provider, pages): Screen) -> HttpResponse {
    let query = Params::parse(req.query_string().as_bytes());
    let text = |name: &str| {
        query
            .get(name)
            .ok()
            .flatten()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let filter = AuditFilter {
        user: text("user"),
        client_id: text("client"),
        event: text("event"),
        since: text("since")
            .as_deref()
            .and_then(crate::calendar::day_start),
        until: text("until")
            .as_deref()
            .and_then(crate::calendar::day_start)
            .map(|start| start + 86_399),
        before_id: text("before"),
    };
    let events = match audit::events(&admin.context(&req, &provider), &filter, PAGE).await {
        Ok(e) => e,
        Err(e) => return ui::failed(&pages, &e),
    };
    let older = (events.len() as i64 == PAGE)
        .then(|| events.last().map(|e| e.id.clone()))
        .flatten()
        .map(|last| {
            let mut link = form_urlencoded::Serializer::new(String::new());
            for name in ["user", "client", "event", "since", "until"] {
                if let Some(v) = text(name) {
                    link.append_pair(name, &v);
                }
            }
            link.append_pair("before", &last);
            format!("?{}", link.finish())
        });
    ui::render(
        &req,
        &provider,
        &pages,
        &admin,
        (StatusCode::OK, "admin_audit.html", "audit"),
        json!({
            "events": events.iter().map(event_row).collect::<Vec<_>>(),
            "filter": {
                "user": text("user"), "client": text("client"), "event": text("event"),
                "since": text("since"), "until": text("until"),
            },
            "older": older,
            "event_types": EVENT_TYPES,
        }),
    )
}

/// Event names offered in the filter (prefixes end with a dot).
const EVENT_TYPES: &[&str] = &[
    "sign_in.",
    "sign_in.failure",
    "mfa.",
    "consent.",
    "token.",
    "token.refresh_reuse_detected",
    "session.",
    "password.",
    "admin.",
];
