//! The invitation parts of the admin user screens: the new-user form's
//! "Invite by email" choice (the account is made without a password and
//! the user gets a link to choose one), and the user page's button that
//! sends the invitation again while the user has no password.

use super::ui::{self, AdminUser};
use crate::admin::invitations::{self, Invitee};
use crate::admin::AdminError;
use crate::oauth::params::Params;
use crate::state::Provider;
use crate::web::pages::Pages;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::json;

/// Whether the new-user form asked for an invitation.
pub fn asked(form: &Params) -> bool {
    form.get("how").ok().flatten() == Some("invite")
}

/// POST /admin/users with `how=invite`.
pub async fn create(
    admin: &AdminUser,
    form: &Params,
    (req, provider, pages): (&HttpRequest, &Provider, &Pages),
) -> HttpResponse {
    let invitee = Invitee {
        username: ui::field(form, "username"),
        email: ui::field(form, "email"),
        name: form.get("name").ok().flatten().map(str::to_string),
        is_admin: ui::checked(form, "is_admin"),
    };
    let typed = json!({
        "username": invitee.username, "email": invitee.email, "name": invitee.name,
        "is_admin": invitee.is_admin, "how": "invite",
    });
    let ctx = admin.context(req, provider);
    match invitations::invite(&ctx, &provider.config, invitee).await {
        Ok(user) => {
            provider.outbox_wake.notify_one();
            ui::done(provider, &format!("/users/{}", user.id), "invitation-sent")
        }
        Err(e @ (AdminError::Invalid(_) | AdminError::Conflict(_) | AdminError::EmailDisabled)) => {
            let status = match e {
                AdminError::Conflict(_) => StatusCode::CONFLICT,
                AdminError::EmailDisabled => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::BAD_REQUEST,
            };
            ui::render(
                req,
                provider,
                pages,
                admin,
                (status, "admin_user_new.html", "users"),
                json!({
                    "fields": typed,
                    "problem": e.to_string(),
                    "email_on": provider.config.email_enabled(),
                }),
            )
        }
        Err(e) => ui::failed(pages, &e),
    }
}

/// POST /admin/users/{id}/send-invitation
pub async fn resend(
    admin: &AdminUser,
    id: &str,
    (req, provider, pages): (&HttpRequest, &Provider, &Pages),
) -> HttpResponse {
    let ctx = admin.context(req, provider);
    match invitations::resend(&ctx, &provider.config, id).await {
        Ok(user) => {
            provider.outbox_wake.notify_one();
            ui::done(provider, &format!("/users/{}", user.id), "invitation-sent")
        }
        Err(e) => ui::failed(pages, &e),
    }
}
