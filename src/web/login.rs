//! The sign-in screen: username and password (a CSRF-protected form).
//! Users with a second factor go on to the TOTP step (`login_totp`); the
//! others get their session here (`sign_in`).

use super::audit;
use super::cookies;
use super::flow::{self, redirect};
use super::pages::Pages;
use super::rate_limit::client_address;
use super::sign_in::{destination, next_after_sign_in, screen_query, start_session};
use crate::account::mfa;
use crate::account::{login, throttle};
use crate::audit::{Actor, Event};
use crate::state::Provider;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

const WRONG_CREDENTIALS: &str = "That username and password don't match. Check them and try again.";

/// The audit event for a refused sign-in. `reason` is given, or found: an
/// unknown username, a disabled account or a wrong password (the person
/// sees the same sentence for all three).
async fn failed_sign_in(provider: &Provider, username: &str, reason: &'static str) -> Event {
    let known = provider
        .store
        .user_by_username(username.trim())
        .await
        .ok()
        .flatten();
    let reason = match (&known, reason) {
        (_, r) if !r.is_empty() => r,
        (None, _) => "unknown_user",
        (Some(u), _) if u.disabled => "disabled",
        (Some(_), _) => "wrong_password",
    };
    let event = Event::new("sign_in.failure", Actor::Anonymous).detail("reason", reason);
    match known {
        Some(user) => event.user(&user.id, &user.username),
        None => event.attempted_username(username),
    }
}

/// The `request` parameter, if it names a live pending request; `Err` holds
/// the page to show when it does not.
async fn pending_client_name(
    provider: &Provider,
    pages: &Pages,
    request: Option<&str>,
) -> Result<Option<String>, HttpResponse> {
    let Some(id) = request else { return Ok(None) };
    match flow::load_request(provider, id).await {
        Ok(Some((_, client))) => Ok(Some(client.name)),
        Ok(None) => Err(flow::expired_request(pages)),
        Err(e) => Err(pages.fail(&e)),
    }
}

/// What the login form shows besides its fields.
struct LoginView<'a> {
    request: Option<&'a str>,
    then: Option<&'static str>,
    client_name: Option<String>,
    username: Option<&'a str>,
    error: Option<&'a str>,
}

fn login_page(
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
        }),
    )
}

/// GET /login
pub async fn show(
    req: HttpRequest,
    provider: web::Data<Provider>,
    pages: web::Data<Pages>,
) -> HttpResponse {
    let params = crate::oauth::params::Params::parse(req.query_string().as_bytes());
    let request = params.get("request").ok().flatten();
    let then = destination(params.get("then").ok().flatten());
    let client_name = match pending_client_name(&provider, &pages, request).await {
        Ok(name) => name,
        Err(page) => return page,
    };
    let hint = match (request, client_name.is_some()) {
        (Some(id), true) => flow::load_request(&provider, id)
            .await
            .ok()
            .flatten()
            .and_then(|(r, _)| r.login_hint),
        _ => None,
    };
    login_page(
        &req,
        &provider,
        &pages,
        StatusCode::OK,
        LoginView {
            request,
            then,
            client_name,
            username: hint.as_deref(),
            error: None,
        },
    )
}

/// POST /login
pub async fn submit(
    req: HttpRequest,
    body: web::Bytes,
    provider: web::Data<Provider>,
    pages: web::Data<Pages>,
) -> HttpResponse {
    let params = match pages.posted_form(&req, &body) {
        Ok(p) => p,
        Err(page) => return *page,
    };
    let field = |name: &str| params.get(name).ok().flatten();
    let request = field("request");
    let then = destination(field("then"));
    let client_name = match pending_client_name(&provider, &pages, request).await {
        Ok(name) => name,
        Err(page) => return page,
    };
    if !cookies::csrf_ok(&req, &provider.config, field("csrf")) {
        return login_page(
            &req,
            &provider,
            &pages,
            StatusCode::FORBIDDEN,
            LoginView {
                request,
                then,
                client_name,
                username: field("username"),
                error: Some("This form had expired, so nothing was sent. Please sign in again."),
            },
        );
    }
    let (Some(username), Some(password)) = (field("username"), field("password")) else {
        return login_page(
            &req,
            &provider,
            &pages,
            StatusCode::BAD_REQUEST,
            LoginView {
                request,
                then,
                client_name,
                username: field("username"),
                error: Some("Enter your username and your password."),
            },
        );
    };
    let address = client_address(&req, provider.config.trust_forwarded_for);
    let wait =
        match throttle::wait_before_attempt(&provider.store, username, &address, provider.now())
            .await
        {
            Ok(wait) => wait,
            Err(e) => return pages.fail(&e),
        };
    if wait > 0 {
        tracing::warn!(
            username,
            wait,
            "sign-in refused: account throttled after failures"
        );
        let event = failed_sign_in(&provider, username, "throttled").await;
        audit::record(&req, &provider, event).await;
        let message = format!("Too many failed attempts. Wait {wait} seconds, then try again.");
        return login_page(
            &req,
            &provider,
            &pages,
            StatusCode::TOO_MANY_REQUESTS,
            LoginView {
                request,
                then,
                client_name,
                username: Some(username),
                error: Some(&message),
            },
        );
    }
    let user = match login::check_password(&provider.store, username, password).await {
        Ok(u) => u,
        Err(e) => return pages.fail(&e),
    };
    let Some(user) = user else {
        tracing::info!(username, "sign-in failed");
        let event = failed_sign_in(&provider, username, "").await;
        audit::record(&req, &provider, event).await;
        if let Err(e) =
            throttle::record_failure(&provider.store, username, &address, provider.now()).await
        {
            return pages.fail(&e);
        }
        provider
            .metrics
            .sign_ins
            .with_label_values(&["failure"])
            .inc();
        return login_page(
            &req,
            &provider,
            &pages,
            StatusCode::UNAUTHORIZED,
            LoginView {
                request,
                then,
                client_name,
                username: Some(username),
                error: Some(WRONG_CREDENTIALS),
            },
        );
    };
    let now = provider.now();
    provider
        .metrics
        .sign_ins
        .with_label_values(&["success"])
        .inc();
    let config = &provider.config;
    let base = config.base_path();
    if user.totp_secret.is_some() {
        let token = match mfa::open_challenge(&provider.store, &user.id, now).await {
            Ok(t) => t,
            Err(e) => return pages.fail(&e),
        };
        let next = format!("{base}/login/totp{}", screen_query(request, then));
        audit::record(&req, &provider, audit::by_user("mfa.challenged", &user)).await;
        let mut response = redirect(StatusCode::SEE_OTHER, &next);
        let _ = response.add_cookie(&cookies::build(
            config,
            cookies::MFA,
            token,
            Some(mfa::CHALLENGE_TTL),
        ));
        return response;
    }
    let cookie = match start_session(&req, &provider, &user.id, &["pwd"], now).await {
        Ok(cookie) => cookie,
        Err(e) => return pages.fail(&e),
    };
    if let Err(e) = throttle::record_success(&provider.store, &user.username).await {
        return pages.fail(&e);
    }
    tracing::info!(user_id = %user.id, "signed in with a password");
    let event = audit::by_user("sign_in.success", &user).detail("amr", "pwd");
    audit::record(&req, &provider, event).await;
    let mut response = redirect(
        StatusCode::SEE_OTHER,
        &next_after_sign_in(&provider, &user, request, then),
    );
    let _ = response.add_cookie(&cookies::build(config, cookies::SESSION, cookie, None));
    response
}
