//! The sign-in screen: username and password (a CSRF-protected form), the
//! first factor of `crate::sign_in::password`. Users with a second factor go
//! on to the code step (`totp`); the others are signed in here.

use super::{destination, refusal_status, signed_in, to_second_factor, visitor};
use crate::oauth::pending_requests;
use crate::sign_in::{self, Outcome};
use crate::state::Provider;
use crate::web::form::PostedForm;
use crate::web::onward;
use crate::web::pages::Pages;
use crate::web::screen::Screen;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::json;

/// What the sign-in page needs to know besides its form: the pending
/// request's client and hints, and the upstream providers to offer.
pub(super) struct Pending {
    /// The client's name, for "to continue to …".
    pub client_name: Option<String>,
    /// The request's `login_hint`.
    pub login_hint: Option<String>,
    /// The request's upstream hint (`idp_hint`).
    pub idp_hint: Option<String>,
    /// The upstream buttons: `{id, name, icon}` each.
    pub upstreams: Vec<serde_json::Value>,
}

/// What the pending request named by the `request` parameter (if any)
/// says, and the upstreams to offer; `Err` holds the page to show when it
/// names no live request.
pub(super) async fn pending(
    provider: &Provider,
    pages: &Pages,
    request: Option<&str>,
) -> Result<Pending, HttpResponse> {
    let upstreams = match crate::sign_in::upstream::offered(provider).await {
        Ok(list) => list
            .into_iter()
            .map(|u| json!({ "id": u.id, "name": u.name, "icon": u.icon }))
            .collect(),
        Err(e) => return Err(pages.fail(&e)),
    };
    let mut found = Pending {
        client_name: None,
        login_hint: None,
        idp_hint: None,
        upstreams,
    };
    let Some(id) = request else {
        return Ok(found);
    };
    match pending_requests::load(provider, id).await {
        Ok(Some((request, client))) => {
            found.client_name = Some(client.name);
            found.login_hint = request.login_hint;
            found.idp_hint = request.idp_hint;
            Ok(found)
        }
        Ok(None) => Err(onward::expired_request(pages)),
        Err(e) => Err(pages.fail(&e)),
    }
}

/// What the login form shows besides its fields.
pub(super) struct LoginView<'a> {
    /// The pending authorization request.
    pub request: Option<&'a str>,
    /// Where to go afterwards, when there is no request.
    pub then: Option<&'static str>,
    /// The client's name, for "to continue to …".
    pub client_name: Option<String>,
    /// The username to fill in.
    pub username: Option<&'a str>,
    /// What went wrong.
    pub error: Option<&'a str>,
    /// The upstream buttons.
    pub upstreams: &'a [serde_json::Value],
    /// What the "sign in as anyone" form shows (test mode only).
    pub anyone: AnyoneView<'a>,
}

/// What the "sign in as anyone" form (test mode only, `super::anyone`)
/// shows again after a refusal: what was typed, and what went wrong.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub(super) struct AnyoneView<'a> {
    /// The username typed.
    pub username: Option<&'a str>,
    /// The groups typed.
    pub groups: Option<&'a str>,
    /// The claims typed.
    pub claims: Option<&'a str>,
    /// What went wrong.
    pub error: Option<&'a str>,
}

pub(super) fn login_page(
    req: &HttpRequest,
    provider: &Provider,
    pages: &Pages,
    status: StatusCode,
    view: LoginView<'_>,
) -> HttpResponse {
    pages.form(
        req,
        &provider.config,
        status,
        "login.html",
        json!({
            "request": view.request, "then": view.then, "client_name": view.client_name,
            "username": view.username, "error": view.error,
            "passkeys": provider.passkeys.is_ok(),
            "upstreams": view.upstreams,
            "sign_up": provider.config.self_registration,
            // The form is there only when its route is (`web::routes`).
            "anyone": provider.test_mode().then_some(view.anyone),
        }),
    )
}

/// GET /login
pub async fn show(Screen(req, provider, pages): Screen) -> HttpResponse {
    let params = crate::oauth::params::Params::parse(req.query_string().as_bytes());
    let request = params.get("request").ok().flatten();
    let then = destination(params.get("then").ok().flatten());
    let found = match pending(&provider, &pages, request).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    // An upstream hint (`idp_hint` on /authorize) goes straight there,
    // unless the person came back to choose another way.
    let hinted = found
        .idp_hint
        .as_deref()
        .filter(|_| params.get("choose").ok().flatten().is_none())
        .filter(|hint| found.upstreams.iter().any(|u| u["id"] == *hint));
    if let Some(hint) = hinted {
        return super::upstream::leave_for(&req, &provider, &pages, hint, (request, then)).await;
    }
    login_page(
        &req,
        &provider,
        &pages,
        StatusCode::OK,
        LoginView {
            request,
            then,
            client_name: found.client_name,
            username: found.login_hint.as_deref(),
            error: None,
            upstreams: &found.upstreams,
            anyone: AnyoneView::default(),
        },
    )
}

/// POST /login
pub async fn submit(form: PostedForm, Screen(req, provider, pages): Screen) -> HttpResponse {
    let field = |name: &str| form.field(name);
    let request = field("request");
    let then = destination(field("then"));
    let found = match pending(&provider, &pages, request).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    // The form again, with the name typed and what went wrong.
    let again = |status: StatusCode, username: Option<&str>, error: &str| {
        let view = LoginView {
            request,
            then,
            client_name: found.client_name.clone(),
            username,
            error: Some(error),
            upstreams: &found.upstreams,
            anyone: AnyoneView::default(),
        };
        login_page(&req, &provider, &pages, status, view)
    };
    if !form.csrf_ok() {
        return again(
            StatusCode::FORBIDDEN,
            field("username"),
            "This form had expired, so nothing was sent. Please sign in again.",
        );
    }
    let (Some(username), Some(password)) = (field("username"), field("password")) else {
        return again(
            StatusCode::BAD_REQUEST,
            field("username"),
            "Enter your username and your password.",
        );
    };
    let outcome =
        match sign_in::password::sign_in(&provider, &visitor(&req, &provider), username, password)
            .await
        {
            Ok(outcome) => outcome,
            Err(e) => return pages.fail(&e),
        };
    match outcome {
        Outcome::SignedIn(done) => signed_in(&provider, done, request, then),
        Outcome::SecondFactorDue { challenge } => {
            to_second_factor(&provider, challenge, request, then)
        }
        Outcome::Refused(why) => again(refusal_status(&why), Some(username), &why.message()),
        // The password method has no challenge to lose.
        Outcome::StartAgain => again(
            StatusCode::UNAUTHORIZED,
            Some(username),
            sign_in::password::WRONG_CREDENTIALS,
        ),
    }
}
