//! What every admin screen shares: who may see them (an admin signed in to
//! the browser; anyone else signed in gets 403, anonymous visitors the
//! sign-in page), CSRF-checked forms, the layout's values, and notices
//! shown after a change.

use crate::admin::{AdminError, Context};
use crate::model::UserRecord;
use crate::oauth::params::Params;
use crate::state::Provider;
use crate::web::form::PostedForm;
use crate::web::onward::{current_session, redirect};
use crate::web::pages::Pages;
use crate::web::rate_limit::client_address;
use crate::web::screen::shared;
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};
use std::future::Future;
use std::pin::Pin;

/// An admin signed in to this browser.
pub struct AdminUser {
    /// Who they are.
    pub user: UserRecord,
}

impl AdminUser {
    /// The context admin actions run in, as this admin from this request.
    pub fn context<'a>(&self, req: &HttpRequest, provider: &'a Provider) -> Context<'a> {
        Context::new(
            provider,
            crate::audit_log::Actor::user(&self.user),
            Some(client_address(req, provider.config.trust_forwarded_for)),
        )
    }
}

async fn check(req: &HttpRequest) -> Result<AdminUser, HttpResponse> {
    let (provider, pages) = match shared(req) {
        Ok(found) => found,
        Err(e) => return Err(e.error_response()),
    };
    let base = provider.config.base_path();
    match current_session(req, &provider).await {
        Ok(Some((_, user))) if user.must_change_password => Err(redirect(
            StatusCode::FOUND,
            &format!("{base}/login/new-password?then=admin"),
        )),
        Ok(Some((_, user))) if user.is_admin && super::carries_nul(req) => {
            Err(pages.error(
                StatusCode::BAD_REQUEST,
                "This address is malformed",
                "It contains a NUL character (%00), which no name or id can hold. Go back and follow a link instead.",
            ))
        }
        Ok(Some((_, user))) if user.is_admin => Ok(AdminUser { user }),
        Ok(Some((_, user))) => {
            tracing::warn!(user_id = %user.id, path = req.path(), "non-admin refused at the admin screens");
            Err(pages.error(
                StatusCode::FORBIDDEN,
                "This page is for administrators",
                "You are signed in, but your account does not have the admin role. Ask an administrator if you need it.",
            ))
        }
        Ok(None) => Err(redirect(
            StatusCode::FOUND,
            &format!("{base}/login?then=admin"),
        )),
        Err(e) => Err(pages.fail(&e)),
    }
}

impl FromRequest for AdminUser {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            check(&req).await.map_err(|response| {
                actix_web::error::InternalError::from_response("admin screens refused", response)
                    .into()
            })
        })
    }
}

/// The notices a change can leave, by the key in `?done=`; fixed sentences,
/// so nothing from the URL is ever shown.
const NOTICES: &[(&str, &str)] = &[
    ("user-saved", "The user was saved."),
    (
        "user-disabled",
        "The user was disabled: their sessions ended and their tokens were revoked.",
    ),
    ("user-enabled", "The user was enabled."),
    (
        "user-unlocked",
        "The failed sign-ins were cleared: no browser has to wait any more.",
    ),
    (
        "mfa-reset",
        "The authenticator app (TOTP) was removed; the user can set it up again. Their passkeys, if any, stay until removed below.",
    ),
    (
        "passkey-removed",
        "The passkey was removed: it no longer signs the user in.",
    ),
    ("user-deleted", "The user was deleted."),
    ("session-ended", "The session was ended."),
    (
        "grant-revoked",
        "The grant was revoked: its refresh and access tokens no longer work.",
    ),
    ("groups-saved", "The user's groups were saved."),
    ("claim-saved", "The claim was saved."),
    ("claim-removed", "The claim was removed."),
    ("client-saved", "The client was saved."),
    ("client-deleted", "The client was deleted."),
    ("group-created", "The group was created."),
    ("group-saved", "The group was saved."),
    ("group-deleted", "The group was deleted."),
    (
        "member-added",
        "The member was added; their next token carries the group.",
    ),
    (
        "member-removed",
        "The member was removed; their next token no longer carries the group.",
    ),
    ("api-saved", "The API was saved."),
    ("api-deleted", "The API was deleted."),
    ("scope-saved", "The scope was saved."),
    ("scope-deleted", "The scope was deleted."),
    (
        "upstream-created",
        "The upstream was added. Register its redirect URI at the upstream.",
    ),
    ("upstream-saved", "The upstream was saved."),
    (
        "upstream-enabled",
        "The upstream was enabled: the sign-in page offers it.",
    ),
    (
        "upstream-disabled",
        "The upstream was disabled: no one can sign in through it until it is enabled again.",
    ),
    ("upstream-deleted", "The upstream was deleted with its links to local accounts."),
    (
        "keys-rotated",
        "The keys were rotated. Every server signs with the new key within 30 seconds.",
    ),
    (
        "invitation-sent",
        "The invitation was sent: its link lets the user choose a password for 7 days.",
    ),
    (
        "mail-retried",
        "The message is back in line and will be sent within a few seconds.",
    ),
];

/// The notice a page shows after a change: the one for the `done` key of
/// its query (`?done=saved` after a redirect), if it is one.
pub fn notice(req: &HttpRequest) -> Option<&'static str> {
    let query = Params::parse(req.query_string().as_bytes());
    let done = query.get("done").ok().flatten();
    NOTICES
        .iter()
        .find(|(key, _)| Some(*key) == done)
        .map(|(_, text)| *text)
}

/// A form field's text, or empty.
pub fn field(form: &Params, name: &str) -> String {
    form.get(name).ok().flatten().unwrap_or("").to_string()
}

/// Whether a checkbox of a form was ticked.
pub fn checked(form: &Params, name: &str) -> bool {
    form.get(name).ok().flatten() == Some("on")
}

/// `text` as one path segment: every byte but the unreserved ones of
/// RFC 3986 percent-encoded (an API's identifier in `/admin/apis/…`).
pub fn path_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Renders an admin screen: `values` plus what the layout needs.
pub fn render(
    req: &HttpRequest,
    provider: &Provider,
    pages: &Pages,
    admin: &AdminUser,
    (status, template, section): (StatusCode, &str, &str),
    values: Value,
) -> HttpResponse {
    let mut context = match values {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    context.insert("admin_name".into(), json!(admin.user.username));
    context.insert("section".into(), json!(section));
    pages.form(
        req,
        &provider.config,
        status,
        template,
        Value::Object(context),
    )
}

/// A posted admin form and the admin who sent it: the admin check comes
/// first (as `AdminUser`), then the form's CSRF token; a form that fails
/// it gets the 403 page. One extractor, so the two checks keep their order
/// (actix polls a handler's extractors together).
pub struct AdminForm(pub AdminUser, pub Params);

impl FromRequest for AdminForm {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let posted = PostedForm::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let admin = check(&req).await.map_err(|response| {
                actix_web::error::InternalError::from_response("admin screens refused", response)
            })?;
            let posted = posted.await?;
            if posted.csrf_ok() {
                return Ok(AdminForm(admin, posted.into_fields()));
            }
            let (_, pages) = shared(&req)?;
            let page = pages.error(
                StatusCode::FORBIDDEN,
                "This form had expired",
                "Nothing was changed. Go back, reload the page and try again.",
            );
            Err(actix_web::error::InternalError::from_response("expired form", page).into())
        })
    }
}

/// Back to an admin page with a notice.
pub fn done(provider: &Provider, path: &str, key: &str) -> HttpResponse {
    let base = provider.config.base_path();
    let joiner = if path.contains('?') { '&' } else { '?' };
    redirect(
        StatusCode::SEE_OTHER,
        &format!("{base}/admin{path}{joiner}done={key}"),
    )
}

/// The page for an admin action that failed: the sentence for a person,
/// or the generic failure page (with an error id) for a server error.
pub fn failed(pages: &Pages, e: &AdminError) -> HttpResponse {
    match e {
        AdminError::NotFound(why) => pages.error(StatusCode::NOT_FOUND, "Not found", why),
        AdminError::Conflict(why) => pages.error(StatusCode::CONFLICT, "Already exists", why),
        AdminError::Invalid(why) => pages.error(StatusCode::BAD_REQUEST, "That did not work", why),
        AdminError::Store(s) => pages.fail(s),
        AdminError::Account(a) => pages.fail(a),
        AdminError::EmailDisabled => pages.error(
            StatusCode::SERVICE_UNAVAILABLE,
            "Email is off",
            &e.to_string(),
        ),
    }
}

/// The page that shows a new password or secret, once.
pub fn show_secret(
    req: &HttpRequest,
    provider: &Provider,
    pages: &Pages,
    admin: &AdminUser,
    section: &str,
    values: Value,
) -> HttpResponse {
    render(
        req,
        provider,
        pages,
        admin,
        (StatusCode::OK, "admin_secret.html", section),
        values,
    )
}
