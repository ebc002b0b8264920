//! The self-service account page, `/account`: profile, password, two-step
//! verification, passkeys, browser sessions and the applications the user has let in.
//! Every change is a CSRF-protected form that redirects back with a notice
//! (POST/redirect/GET), or re-renders the page with the problem in words.

use super::form::AccountForm;
use crate::account::{passkeys, profile, self_service, upstream_accounts, AccountError};
use crate::model::{SessionRecord, UserRecord};
use crate::oauth::consent::describe_scope;
use crate::oauth::params::Params;
use crate::state::Provider;
use crate::web::display;
use crate::web::form::PostedForm;
use crate::web::onward::{current_session, redirect};
use crate::web::pages::Pages;
use crate::web::profile_fields;
use crate::web::screen::Screen;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::json;

/// The notices a change can leave, by the key in `?done=`. Fixed sentences:
/// nothing from the URL is ever shown.
const NOTICES: &[(&str, &str)] = &[
    ("profile", "Your profile was saved."),
    (
        "verify-sent",
        "We sent a link to your address. Open it within 24 hours to verify the address.",
    ),
    (
        "password",
        "Your password was changed, and your other sessions were signed out.",
    ),
    ("session", "That session was signed out."),
    ("sessions", "All your other sessions were signed out."),
    (
        "application",
        "Access removed. The application can no longer use your account, and would have to ask again.",
    ),
    ("mfa-off", "Two-step verification is now off."),
    (
        "passkey-added",
        "Your passkey was added. You can now sign in with it, without a password.",
    ),
    ("passkey-renamed", "The passkey was renamed."),
    (
        "upstream-linked",
        "Linked. You can now sign in with that provider too.",
    ),
    (
        "upstream-unlinked",
        "Unlinked. That provider no longer signs you in here.",
    ),
    (
        "passkey-removed",
        "The passkey was removed: it can no longer sign in to your account.",
    ),
];

/// A problem to show next to one section of the page.
pub struct Problem<'a> {
    /// The section's id (`profile`, `password`, `mfa`, …).
    pub section: &'a str,
    /// The sentence.
    pub message: &'a str,
}

/// Where an anonymous visitor is sent: sign in, then come back here.
pub fn sign_in_first(provider: &Provider, status: StatusCode) -> HttpResponse {
    let base = provider.config.base_path();
    redirect(status, &format!("{base}/login?then=account"))
}

/// Renders the whole account page.
pub async fn render(
    req: &HttpRequest,
    provider: &Provider,
    pages: &Pages,
    status: StatusCode,
    (session, user): (&SessionRecord, &UserRecord),
    notice: Option<&str>,
    problem: Option<Problem<'_>>,
) -> Result<HttpResponse, AccountError> {
    let overview = self_service::overview(provider, user).await?;
    let recovery_left = overview.recovery_left;
    let sessions: Vec<_> = overview
        .sessions
        .into_iter()
        .map(|s| {
            json!({
                "sid": s.sid,
                "device": display::device(s.device.user_agent.as_deref()),
                "ip": s.device.ip,
                "signed_in": display::date_time(s.created_at),
                "two_step": crate::model::multi_factor(&s.amr),
                "current": s.sid == session.sid,
            })
        })
        .collect();
    let applications: Vec<_> = overview
        .applications
        .into_iter()
        .map(|c| {
            json!({
                "client_id": c.client_id,
                "name": c.client_name,
                "scopes": c.scopes.iter().map(|s| describe_scope(s)).collect::<Vec<_>>(),
                "since": display::date_time(c.granted_at),
            })
        })
        .collect();
    let now = provider.now();
    let passkeys = passkeys::list(provider, &user.id).await?;
    let recent: Vec<_> = passkeys::recently_added(&passkeys, now)
        .into_iter()
        .map(|p| json!({ "name": p.name, "added": display::date_time(p.created_at) }))
        .collect();
    let passkeys: Vec<_> = passkeys
        .iter()
        .map(|p| {
            json!({
                "id": p.id,
                "name": p.name,
                "added": display::date_time(p.created_at),
                "last_used": p.last_used_at.map(display::date_time),
            })
        })
        .collect();
    let upstreams: Vec<_> = upstream_accounts::overview(provider, user)
        .await?
        .into_iter()
        .map(|u| {
            json!({
                "id": u.id,
                "name": u.name,
                "linked": u.link.is_some(),
                "email": u.link.as_ref().and_then(|l| l.email.clone()),
                "since": u.link.as_ref().map(|l| display::date_time(l.created_at)),
                "last_used": u.link.as_ref().and_then(|l| l.last_used_at).map(display::date_time),
                "may_unlink": u.may_unlink,
            })
        })
        .collect();
    let (problem_section, problem_message) = problem.map_or(("", ""), |p| (p.section, p.message));
    Ok(pages.form(
        req,
        &provider.config,
        status,
        "account.html",
        json!({
            "username": user.username,
            "name": user.name,
            "email": user.email,
            "email_verified": user.email_verified,
            "email_enabled": provider.config.email_enabled(),
            "p": profile_fields::values(&user.profile),
            "may_verify": false,
            "mfa_enabled": user.totp_secret.is_some(),
            "recovery_left": recovery_left,
            "passkeys_on": provider.passkeys.is_ok(),
            "passkeys": passkeys,
            "recent_passkeys": recent,
            "passkey_reauth": now - session.auth_time > passkeys::REAUTH_WINDOW,
            "upstreams": upstreams,
            "has_password": upstream_accounts::has_password(user),
            "sessions": sessions,
            "other_sessions": sessions.len() > 1,
            "applications": applications,
            "notice": notice,
            "problem_section": problem_section,
            "open_details": problem_section == "profile",
            "problem_message": problem_message,
        }),
    ))
}

/// GET /account
pub async fn show(Screen(req, provider, pages): Screen) -> HttpResponse {
    let signed_in = match current_session(&req, &provider).await {
        Ok(Some(found)) => found,
        Ok(None) => return sign_in_first(&provider, StatusCode::FOUND),
        Err(e) => return pages.fail(&e),
    };
    if signed_in.1.must_change_password {
        let base = provider.config.base_path();
        return redirect(
            StatusCode::FOUND,
            &format!("{base}/login/new-password?then=account"),
        );
    }
    let query = Params::parse(req.query_string().as_bytes());
    let done = query.get("done").ok().flatten();
    let notice = NOTICES
        .iter()
        .find(|(key, _)| Some(*key) == done)
        .map(|(_, text)| *text);
    let (session, user) = (&signed_in.0, &signed_in.1);
    render(
        &req,
        &provider,
        &pages,
        StatusCode::OK,
        (session, user),
        notice,
        None,
    )
    .await
    .unwrap_or_else(|e| pages.fail(&e))
}

/// A checked account form: its fields and the signed-in user, or the
/// response to send instead (sign in, expired form, unreadable body).
pub async fn read_form(
    req: &HttpRequest,
    posted: PostedForm,
    provider: &Provider,
    pages: &Pages,
) -> Result<(Params, SessionRecord, UserRecord), HttpResponse> {
    let (session, user) = match current_session(req, provider).await {
        Ok(Some(found)) => found,
        Ok(None) => return Err(sign_in_first(provider, StatusCode::SEE_OTHER)),
        Err(e) => return Err(pages.fail(&e)),
    };
    if user.must_change_password {
        // The password an admin set is known to them: nothing changes on
        // this account until its owner has chosen their own.
        let base = provider.config.base_path();
        return Err(redirect(
            StatusCode::SEE_OTHER,
            &format!("{base}/login/new-password?then=account"),
        ));
    }
    if !posted.csrf_ok() {
        let page = render(
            req,
            provider,
            pages,
            StatusCode::FORBIDDEN,
            (&session, &user),
            None,
            Some(Problem {
                section: "top",
                message: "That form had expired, so nothing was changed. Please try again.",
            }),
        )
        .await;
        return Err(page.unwrap_or_else(|e| pages.fail(&e)));
    }
    Ok((posted.into_fields(), session, user))
}

/// Back to the account page with a notice.
pub fn done(provider: &Provider, key: &str, section: &str) -> HttpResponse {
    let base = provider.config.base_path();
    redirect(
        StatusCode::SEE_OTHER,
        &format!("{base}/account?done={key}#{section}"),
    )
}

/// The account page again, with a problem shown in `section`.
pub async fn problem(
    req: &HttpRequest,
    provider: &Provider,
    pages: &Pages,
    form: &AccountForm,
    section: &str,
    message: &str,
) -> HttpResponse {
    render(
        req,
        provider,
        pages,
        StatusCode::BAD_REQUEST,
        (&form.session, &form.user),
        None,
        Some(Problem { section, message }),
    )
    .await
    .unwrap_or_else(|e| pages.fail(&e))
}

/// POST /account/profile
pub async fn update_profile(
    form: AccountForm,
    Screen(req, provider, pages): Screen,
) -> HttpResponse {
    let checked = profile::check_profile(form.field("name"), form.field("email"))
        .map_err(str::to_string)
        .and_then(|found| {
            let standard = profile_fields::read(|name| form.field(name), false);
            Ok((found, profile::check_standard_claims(standard)?))
        });
    match checked {
        Ok(((name, email), standard)) => {
            let named = (name.as_deref(), email.as_deref());
            match self_service::update_profile(&provider, &form.user, named, standard, &form.ip)
                .await
            {
                Ok(()) => done(&provider, "profile", "profile"),
                Err(e) => pages.fail(&e),
            }
        }
        Err(why) => problem(&req, &provider, &pages, &form, "profile", &why).await,
    }
}

/// POST /account/sessions/end: one session by `sid`, or `others`.
pub async fn end_sessions(form: AccountForm, Screen(req, provider, pages): Screen) -> HttpResponse {
    let (user, current, ip) = (&form.user, &form.session.sid, &form.ip);
    if form.field("scope") == Some("others") {
        return match self_service::end_other_sessions(&provider, user, current, ip).await {
            Ok(_) => done(&provider, "sessions", "sessions"),
            Err(e) => pages.fail(&e),
        };
    }
    let sid = form.field("sid").unwrap_or("");
    let refused = if sid == current {
        "To sign out of this browser, use Sign out at the top of the page."
    } else {
        match self_service::end_session(&provider, user, sid, ip).await {
            Ok(true) => return done(&provider, "session", "sessions"),
            Ok(false) => "That session had already ended.",
            Err(e) => return pages.fail(&e),
        }
    };
    problem(&req, &provider, &pages, &form, "sessions", refused).await
}

/// POST /account/applications/revoke
pub async fn revoke_application(
    form: AccountForm,
    Screen(req, provider, pages): Screen,
) -> HttpResponse {
    let client_id = form.field("client_id").unwrap_or("");
    match self_service::revoke_application(&provider, &form.user, client_id, &form.ip).await {
        Ok(true) => done(&provider, "application", "applications"),
        Ok(false) => {
            let message = "That application had no access to remove.";
            problem(&req, &provider, &pages, &form, "applications", message).await
        }
        Err(e) => pages.fail(&e),
    }
}
