//! The second sign-in step (RFC 6238): a TOTP code, or a recovery code, for
//! users who have a second factor, after their password was accepted. The
//! challenge cookie ties the browser to that user; each code works once and
//! wrong ones slow the account down like wrong passwords.

use super::audit;
use super::cookies;
use super::flow::{self, redirect};
use super::pages::Pages;
use super::rate_limit::client_address;
use super::sign_in::{destination, next_after_sign_in, screen_query, start_session};
use crate::account::mfa::{self, CodeCheck, Factor};
use crate::account::throttle;
use crate::state::Provider;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

fn totp_page(
    req: &HttpRequest,
    provider: &Provider,
    pages: &Pages,
    status: StatusCode,
    (request, then): (Option<&str>, Option<&'static str>),
    error: Option<&str>,
) -> HttpResponse {
    pages.form(
        req,
        &provider.config,
        status,
        "totp.html",
        json!({ "request": request, "then": then, "error": error }),
    )
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
    let params = match pages.posted_form(&req, &body) {
        Ok(p) => p,
        Err(page) => return *page,
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
