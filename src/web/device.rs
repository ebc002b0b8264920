//! The device screens (RFC 8628 §3.3): GET /device asks for the code a
//! device shows (or, from `verification_uri_complete`, takes it from the
//! link) and shows what the device asks for; POST /device records Allow or
//! Deny. The person must be signed in: a signed-out browser is sent through
//! the sign-in with `then=device`, the code from the link kept meanwhile in
//! a short-lived cookie. The decisions are `crate::oauth::device_verification`'s.

use super::cookies;
use super::form::PostedForm;
use super::onward::{current_session, redirect};
use super::pages::Pages;
use super::rate_limit::client_address;
use super::screen::Screen;
use crate::model::{limits, SessionRecord, UserRecord};
use crate::oauth::device_authorization::LIFETIME;
use crate::oauth::device_verification::{self, Barrier, Decided, Lookup, Pending};
use crate::oauth::params::Params;
use crate::oauth::user_code;
use crate::state::Provider;
use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use serde_json::json;

/// A response that keeps `code` for after a sign-in or a detour.
fn keeping(provider: &Provider, mut response: HttpResponse, code: &str) -> HttpResponse {
    let cookie = cookies::build(
        &provider.config,
        cookies::DEVICE_CODE,
        code.to_string(),
        Some(LIFETIME),
    );
    let _ = response.add_cookie(&cookie);
    response
}

/// A response that forgets the kept code: it has been used.
fn forgetting(provider: &Provider, mut response: HttpResponse) -> HttpResponse {
    let _ = response.add_cookie(&cookies::removal(&provider.config, cookies::DEVICE_CODE));
    response
}

/// To the sign-in, which comes back here.
fn to_sign_in(provider: &Provider, status: StatusCode) -> HttpResponse {
    let base = provider.config.base_path();
    redirect(status, &format!("{base}/login?then=device"))
}

/// The page asking for the code, with `error` when the last one was wrong.
fn ask(
    req: &HttpRequest,
    (provider, pages): (&Provider, &Pages),
    user: &UserRecord,
    status: StatusCode,
    (typed, error): (&str, Option<&str>),
) -> HttpResponse {
    // Shown back for correcting only while it could be a code.
    let typed = if typed.len() <= limits::USER_CODE_TYPED {
        typed
    } else {
        ""
    };
    pages.form(
        req,
        &provider.config,
        status,
        "device.html",
        json!({ "username": user.username, "typed": typed, "error": error }),
    )
}

/// What a looked-up code shows when it cannot be decided on.
fn not_pending(
    req: &HttpRequest,
    (provider, pages): (&Provider, &Pages),
    user: &UserRecord,
    typed: &str,
    lookup: Lookup,
) -> HttpResponse {
    let base = provider.config.base_path();
    let again = (format!("{base}/device"), "Enter another code");
    let link = (again.0.as_str(), again.1);
    match lookup {
        Lookup::Pending(_) => pages.internal_error("a pending code was shown as settled"),
        Lookup::Wrong => ask(
            req,
            (provider, pages),
            user,
            StatusCode::BAD_REQUEST,
            (
                typed,
                Some("That code is not right. Check the code on your device and try again."),
            ),
        ),
        Lookup::Throttled(wait) => {
            let mut page = pages.error(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many wrong codes",
                &format!("Please wait {wait} seconds, then try again with the code your device shows."),
            );
            if let Ok(value) = header::HeaderValue::from_str(&wait.to_string()) {
                page.headers_mut().insert(header::RETRY_AFTER, value);
            }
            page
        }
        Lookup::Expired => pages.error_with_link(
            StatusCode::BAD_REQUEST,
            "This code has expired",
            "Codes work for ten minutes. Start again on your device to get a new one.",
            link,
        ),
        Lookup::Decided => pages.error_with_link(
            StatusCode::BAD_REQUEST,
            "This code has already been used",
            "Someone already allowed or denied it. Start again on your device if you still need to sign in there.",
            link,
        ),
    }
}

/// The page for what stands between the user and allowing the device; the
/// code is kept for when they come back.
fn blocked(
    provider: &Provider,
    pages: &Pages,
    pending: &Pending,
    barrier: Barrier,
) -> HttpResponse {
    let base = provider.config.base_path();
    let app = &pending.client.name;
    let page = match barrier {
        // Nothing to come back for: the kept code would only show this
        // page again instead of the form for another code.
        Barrier::NoAccess => {
            let page = pages.error(
                StatusCode::FORBIDDEN,
                &format!("You don't have access to {app}"),
                "This account is not allowed to use it. If you think it should be, ask your administrator to add you to the right group.",
            );
            return forgetting(provider, page);
        }
        Barrier::ChangePassword => redirect(
            StatusCode::SEE_OTHER,
            &format!("{base}/login/new-password?then=device"),
        ),
        Barrier::SecondFactor { enrolled: true } => pages.error_with_link(
            StatusCode::FORBIDDEN,
            &format!("{app} asks for two-step verification"),
            "You signed in with your password only. Sign in again with your second factor to allow this device.",
            (&format!("{base}/login?then=device"), "Sign in again"),
        ),
        Barrier::SecondFactor { enrolled: false } => pages.error_with_link(
            StatusCode::FORBIDDEN,
            &format!("{app} asks for two-step verification"),
            "Set up two-step verification on your account, sign in again with it, then come back to this page.",
            (&format!("{base}/account"), "Your account"),
        ),
    };
    keeping(provider, page, &pending.code)
}

/// GET /device
pub async fn show(Screen(req, provider, pages): Screen) -> HttpResponse {
    let query = Params::parse(req.query_string().as_bytes());
    let from_link = query.get("user_code").ok().flatten().map(str::to_string);
    let kept = cookies::value(&req, &provider.config, cookies::DEVICE_CODE);
    let signed_in = match current_session(&req, &provider).await {
        Ok(found) => found,
        Err(e) => return pages.fail(&e),
    };
    let Some((session, user)) = signed_in else {
        let response = to_sign_in(&provider, StatusCode::FOUND);
        return match from_link.as_deref().and_then(user_code::normalise) {
            Some(code) => keeping(&provider, response, &code),
            None => response,
        };
    };
    let Some(typed) = from_link.or(kept) else {
        return ask(&req, (&provider, &pages), &user, StatusCode::OK, ("", None));
    };
    let ip = client_address(&req, provider.config.trust_forwarded_for);
    let lookup = match device_verification::look_up(&provider, &typed, (&user, &ip)).await {
        Ok(lookup) => lookup,
        Err(e) => return pages.fail(&e),
    };
    let pending = match lookup {
        Lookup::Pending(pending) => *pending,
        other => {
            let page = not_pending(&req, (&provider, &pages), &user, &typed, other);
            return forgetting(&provider, page);
        }
    };
    if let Some(barrier) = device_verification::barrier(&pending.client, &session, &user) {
        return blocked(&provider, &pages, &pending, barrier);
    }
    let page = pages.form(
        &req,
        &provider.config,
        StatusCode::OK,
        "device_confirm.html",
        json!({
            "client_name": pending.client.name, "username": user.username,
            "user_code": pending.shown, "scopes": pending.scopes,
        }),
    );
    forgetting(&provider, page)
}

/// POST /device
pub async fn submit(form: PostedForm, Screen(req, provider, pages): Screen) -> HttpResponse {
    if !form.csrf_ok() {
        return pages.error_with_link(
            StatusCode::FORBIDDEN,
            "This form had expired",
            "Nothing was decided. Enter the code from your device again.",
            (
                &format!("{}/device", provider.config.base_path()),
                "Enter the code",
            ),
        );
    }
    let typed = form.field("user_code").unwrap_or_default().to_string();
    let signed_in: Option<(SessionRecord, UserRecord)> =
        match current_session(&req, &provider).await {
            Ok(found) => found,
            Err(e) => return pages.fail(&e),
        };
    let Some((session, user)) = signed_in else {
        let response = to_sign_in(&provider, StatusCode::SEE_OTHER);
        return match user_code::normalise(&typed) {
            Some(code) => keeping(&provider, response, &code),
            None => response,
        };
    };
    let allow = match form.field("decision") {
        Some("allow") => true,
        Some("deny") => false,
        _ => {
            return pages.error(
                StatusCode::BAD_REQUEST,
                "Choose Allow or Deny",
                "Go back and choose whether to allow the device.",
            )
        }
    };
    let ip = client_address(&req, provider.config.trust_forwarded_for);
    let lookup = match device_verification::look_up(&provider, &typed, (&user, &ip)).await {
        Ok(lookup) => lookup,
        Err(e) => return pages.fail(&e),
    };
    let pending = match lookup {
        Lookup::Pending(pending) => *pending,
        other => return not_pending(&req, (&provider, &pages), &user, &typed, other),
    };
    if allow {
        if let Some(barrier) = device_verification::barrier(&pending.client, &session, &user) {
            return blocked(&provider, &pages, &pending, barrier);
        }
    }
    let decided =
        device_verification::decide(&provider, &pending, (&session, &user), allow, &ip).await;
    match decided {
        Ok(Decided::Gone) => not_pending(&req, (&provider, &pages), &user, &typed, Lookup::Decided),
        Ok(outcome) => pages.render(
            StatusCode::OK,
            "device_done.html",
            &json!({
                "allowed": outcome == Decided::Allowed,
                "client_name": pending.client.name,
            }),
        ),
        Err(e) => pages.fail(&e),
    }
}
