//! The sign-in screens: username and password, then the TOTP code (or a
//! recovery code) for users who have one. Both are CSRF-protected forms;
//! success opens a browser session and resumes the pending authorization
//! request, or goes to one of a fixed set of internal pages (`then`), so no
//! link can turn the sign-in into an open redirect.

use super::audit;
use super::cookies;
use super::flow::{self, redirect};
use super::pages::Pages;
use super::params;
use super::rate_limit::client_address;
use crate::account::mfa::{self, CodeCheck, Factor};
use crate::account::{login, session, throttle};
use crate::audit::{Actor, Event};
use crate::state::Provider;
use crate::store::Device;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

const WRONG_CREDENTIALS: &str = "That username and password don't match. Check them and try again.";

/// Opens a session for the user and ends the one this browser had, so a new
/// sign-in (perhaps as someone else) replaces it instead of leaving it
/// behind; returns the new cookie value.
async fn start_session(
    req: &HttpRequest,
    provider: &Provider,
    user_id: &str,
    amr: &[&str],
    now: i64,
) -> Result<String, crate::account::AccountError> {
    if let Some(old) = cookies::value(req, &provider.config, cookies::SESSION) {
        session::close(&provider.store, &old).await?;
    }
    let device = Device {
        user_agent: req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(200).collect()),
        ip: Some(client_address(req, provider.config.trust_forwarded_for)),
    };
    let (cookie, _) = session::open(
        &provider.store,
        user_id,
        amr,
        &device,
        now,
        provider.config.session_ttl,
    )
    .await?;
    Ok(cookie)
}

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

/// Where a fresh sign-in goes: first to choose a password, if an admin set
/// the current one; then on as usual.
fn next_after_sign_in(
    provider: &Provider,
    user: &crate::store::UserRecord,
    request: Option<&str>,
    then: Option<&'static str>,
) -> String {
    if user.must_change_password {
        let base = provider.config.base_path();
        return format!("{base}/login/new-password{}", screen_query(request, then));
    }
    after_sign_in(provider, request, then)
}

/// The internal pages a sign-in may lead to besides an authorization
/// request, by the name a link uses in `then`; anything else means home.
const DESTINATIONS: &[(&str, &str)] = &[("account", "/account"), ("admin", "/admin")];

/// The `then` value, if it names a known destination.
pub fn destination(value: Option<&str>) -> Option<&'static str> {
    DESTINATIONS
        .iter()
        .find(|(name, _)| Some(*name) == value)
        .map(|(name, _)| *name)
}

/// The query string that carries the pending request or destination from
/// one sign-in screen to the next ("" when there is neither).
pub fn screen_query(request: Option<&str>, then: Option<&'static str>) -> String {
    match (request, then) {
        (Some(id), _) => format!("?request={id}"),
        (None, Some(name)) => format!("?then={name}"),
        (None, None) => String::new(),
    }
}

/// Where to go once signed in: the pending request, a named destination,
/// or the home page.
pub fn after_sign_in(provider: &Provider, request: Option<&str>, then: Option<&str>) -> String {
    let base = provider.config.base_path();
    match request {
        Some(id) => format!("{base}/authorize/resume?request={id}"),
        None => {
            let path = DESTINATIONS
                .iter()
                .find(|(name, _)| Some(*name) == then)
                .map_or("/", |(_, path)| path);
            format!("{base}{path}")
        }
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
    let (csrf, new_cookie) = cookies::csrf_token(req, &provider.config);
    let mut response = pages.render(
        status,
        "login.html",
        &json!({
            "csrf": csrf, "request": view.request, "then": view.then, "client_name": view.client_name,
            "username": view.username, "error": view.error,
        }),
    );
    if let Some(cookie) = new_cookie {
        let _ = response.add_cookie(&cookie);
    }
    response
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
    let params = match params::form(&req, &body) {
        Ok(p) => p,
        Err(why) => {
            return pages.error(StatusCode::BAD_REQUEST, "This form could not be read", &why)
        }
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

fn totp_page(
    req: &HttpRequest,
    provider: &Provider,
    pages: &Pages,
    status: StatusCode,
    (request, then): (Option<&str>, Option<&'static str>),
    error: Option<&str>,
) -> HttpResponse {
    let (csrf, new_cookie) = cookies::csrf_token(req, &provider.config);
    let mut response = pages.render(
        status,
        "totp.html",
        &json!({ "csrf": csrf, "request": request, "then": then, "error": error }),
    );
    if let Some(cookie) = new_cookie {
        let _ = response.add_cookie(&cookie);
    }
    response
}

fn back_to_login(
    provider: &Provider,
    request: Option<&str>,
    then: Option<&'static str>,
) -> HttpResponse {
    let base = provider.config.base_path();
    let to = format!("{base}/login{}", screen_query(request, then));
    let mut response = redirect(StatusCode::SEE_OTHER, &to);
    let _ = response.add_cookie(&cookies::removal(&provider.config, cookies::MFA));
    response
}

/// GET /login/totp
pub async fn show_totp(
    req: HttpRequest,
    provider: web::Data<Provider>,
    pages: web::Data<Pages>,
) -> HttpResponse {
    let params = crate::oauth::params::Params::parse(req.query_string().as_bytes());
    let request = params.get("request").ok().flatten();
    let then = destination(params.get("then").ok().flatten());
    if request.is_some_and(|r| !flow::is_request_id(r)) {
        return flow::expired_request(&pages);
    }
    let live = match cookies::value(&req, &provider.config, cookies::MFA) {
        Some(token) => matches!(
            mfa::challenge(&provider.store, &token, provider.now()).await,
            Ok(Some(_))
        ),
        None => false,
    };
    if !live {
        return back_to_login(&provider, request, then);
    }
    totp_page(
        &req,
        &provider,
        &pages,
        StatusCode::OK,
        (request, then),
        None,
    )
}

/// POST /login/totp
pub async fn submit_totp(
    req: HttpRequest,
    body: web::Bytes,
    provider: web::Data<Provider>,
    pages: web::Data<Pages>,
) -> HttpResponse {
    let params = match params::form(&req, &body) {
        Ok(p) => p,
        Err(why) => {
            return pages.error(StatusCode::BAD_REQUEST, "This form could not be read", &why)
        }
    };
    let field = |name: &str| params.get(name).ok().flatten();
    let request = field("request");
    let then = destination(field("then"));
    if request.is_some_and(|r| !flow::is_request_id(r)) {
        return flow::expired_request(&pages);
    }
    if !cookies::csrf_ok(&req, &provider.config, field("csrf")) {
        return totp_page(
            &req,
            &provider,
            &pages,
            StatusCode::FORBIDDEN,
            (request, then),
            Some("This form had expired, so nothing was sent. Please enter the code again."),
        );
    }
    let now = provider.now();
    let Some(token) = cookies::value(&req, &provider.config, cookies::MFA) else {
        return back_to_login(&provider, request, then);
    };
    let challenge = match mfa::challenge(&provider.store, &token, now).await {
        Ok(Some(c)) => c,
        Ok(None) => return back_to_login(&provider, request, then),
        Err(e) => return pages.fail(&e),
    };
    let user = match provider.store.user_by_id(&challenge.user_id).await {
        Ok(Some(u)) if !u.disabled => u,
        Ok(_) => return back_to_login(&provider, request, then),
        Err(e) => return pages.fail(&e),
    };
    let address = client_address(&req, provider.config.trust_forwarded_for);
    let wait =
        match throttle::wait_before_attempt(&provider.store, &user.username, &address, now).await {
            Ok(wait) => wait,
            Err(e) => return pages.fail(&e),
        };
    if wait > 0 {
        tracing::warn!(user_id = %user.id, wait, "TOTP refused: account throttled after failures");
        let event = audit::by_user("mfa.failure", &user).detail("reason", "throttled");
        audit::record(&req, &provider, event).await;
        let message = format!("Too many failed attempts. Wait {wait} seconds, then try again.");
        return totp_page(
            &req,
            &provider,
            &pages,
            StatusCode::TOO_MANY_REQUESTS,
            (request, then),
            Some(&message),
        );
    }
    let code = field("code").unwrap_or("");
    match mfa::check_code(&provider.store, &token, &user, code, now).await {
        Ok(CodeCheck::Accepted(factor)) => {
            let kind = if factor == Factor::RecoveryCode {
                "recovery_code"
            } else {
                "totp"
            };
            let event = audit::by_user("mfa.success", &user).detail("factor", kind);
            audit::record(&req, &provider, event).await;
            provider
                .metrics
                .mfa_challenges
                .with_label_values(&["success"])
                .inc();
        }
        Ok(CodeCheck::Rejected(factor)) => {
            if let Err(e) =
                throttle::record_failure(&provider.store, &user.username, &address, now).await
            {
                return pages.fail(&e);
            }
            provider
                .metrics
                .mfa_challenges
                .with_label_values(&["failure"])
                .inc();
            tracing::info!(user_id = %user.id, reason = ?factor, "second-factor code rejected");
            let event = audit::by_user("mfa.failure", &user).detail("reason", factor.reason());
            audit::record(&req, &provider, event).await;
            return totp_page(
                &req,
                &provider,
                &pages,
                StatusCode::UNAUTHORIZED,
                (request, then),
                Some(factor.problem()),
            );
        }
        Ok(CodeCheck::Exhausted) => {
            provider
                .metrics
                .mfa_challenges
                .with_label_values(&["exhausted"])
                .inc();
            tracing::warn!(user_id = %user.id, "too many wrong TOTP codes; the password is needed again");
            let event = audit::by_user("mfa.failure", &user).detail("reason", "too_many_attempts");
            audit::record(&req, &provider, event).await;
            return back_to_login(&provider, request, then);
        }
        Err(e) => return pages.fail(&e),
    }
    let config = &provider.config;
    let cookie = match start_session(&req, &provider, &user.id, &["pwd", "otp"], now).await {
        Ok(cookie) => cookie,
        Err(e) => return pages.fail(&e),
    };
    if let Err(e) = throttle::record_success(&provider.store, &user.username).await {
        return pages.fail(&e);
    }
    tracing::info!(user_id = %user.id, "signed in with a password and a second factor");
    let event = audit::by_user("sign_in.success", &user).detail("amr", "pwd otp");
    audit::record(&req, &provider, event).await;
    let mut response = redirect(
        StatusCode::SEE_OTHER,
        &next_after_sign_in(&provider, &user, request, then),
    );
    let _ = response.add_cookie(&cookies::build(config, cookies::SESSION, cookie, None));
    let _ = response.add_cookie(&cookies::removal(config, cookies::MFA));
    response
}
