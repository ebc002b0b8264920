//! The admin screen for the outbox: messages by state (pending, parked,
//! sent) with their kind, recipient, subject, attempts, last error and
//! dates, and a Retry button on parked ones. Bodies are never shown (they
//! may hold a one-time link); without an SMTP server the screen says that
//! nothing is sent.

use super::ui::{self, AdminForm, AdminUser};
use crate::admin::outbox;
use crate::model::{OutboxRecord, OutboxState};
use crate::oauth::params::Params;
use crate::web::display;
use crate::web::screen::Screen;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

/// How many messages the screen lists.
const SHOWN: i64 = 100;

fn row(mail: &OutboxRecord) -> Value {
    json!({
        "id": mail.id,
        "message_id": mail.message_id,
        "channel": mail.channel,
        "kind": mail.kind,
        "recipient": mail.recipient,
        "subject": mail.subject,
        "state": mail.state.as_str(),
        "parked": mail.state == OutboxState::Parked,
        "attempts": mail.attempts,
        "last_error": mail.last_error,
        "created": display::date_time(mail.created_at),
        "next_attempt": (mail.state == OutboxState::Pending)
            .then(|| display::date_time(mail.next_attempt_at)),
        "sent": mail.sent_at.map(display::date_time),
    })
}

/// GET /admin/outbox?state=pending|parked|sent
pub async fn list(admin: AdminUser, Screen(req, provider, pages): Screen) -> HttpResponse {
    let query = Params::parse(req.query_string().as_bytes());
    let typed = query.get("state").ok().flatten();
    let state = match outbox::parse_state(typed) {
        Ok(state) => state,
        Err(e) => return ui::failed(&pages, &e),
    };
    let ctx = admin.context(&req, &provider);
    let found = async {
        let items = outbox::list(&ctx, state, SHOWN).await?;
        let counts = outbox::counts(&ctx).await?;
        Ok::<_, crate::admin::AdminError>((items, counts))
    }
    .await;
    let (items, counts) = match found {
        Ok(found) => found,
        Err(e) => return ui::failed(&pages, &e),
    };
    ui::render(
        &req,
        &provider,
        &pages,
        &admin,
        (StatusCode::OK, "admin_outbox.html", "outbox"),
        json!({
            "messages": items.iter().map(row).collect::<Vec<_>>(),
            "state": state.map(OutboxState::as_str).unwrap_or("all"),
            "pending": counts.pending,
            "parked": counts.parked,
            "email_enabled": provider.config.email_enabled(),
            "shown": SHOWN,
            "notice": ui::notice(&req),
        }),
    )
}

/// POST /admin/outbox/{id}/retry
pub async fn retry(
    path: web::Path<String>,
    AdminForm(admin, _form): AdminForm,
    Screen(req, provider, pages): Screen,
) -> HttpResponse {
    match outbox::retry(&admin.context(&req, &provider), &path).await {
        Ok(_) => {
            provider.outbox_wake.notify_one();
            ui::done(&provider, "/outbox?state=pending", "mail-retried")
        }
        Err(e) => ui::failed(&pages, &e),
    }
}
