//! The sign-up screens (`account::registration`): `GET/POST /register`,
//! and the page a sign-up's link opens, `GET /register/confirm?token=…`,
//! which asks for a click (`POST /register/confirm`) before it uses the
//! link up, since mail scanners open links on their own.

use crate::account::registration::{self, Answer, Availability, Confirmed, Refused, SignUp};
use crate::oauth::params::Params;
use crate::state::Provider;
use crate::web::form::PostedForm;
use crate::web::pages::Pages;
use crate::web::rate_limit::client_address;
use crate::web::screen::Screen;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::{json, Value};

fn page(
    req: &HttpRequest,
    provider: &Provider,
    pages: &Pages,
    status: StatusCode,
    mut values: Value,
) -> HttpResponse {
    if let Some(map) = values.as_object_mut() {
        map.insert(
            "domains".into(),
            json!(provider.config.self_registration_domains),
        );
    }
    pages.form(req, &provider.config, status, "register.html", values)
}

/// The page for a form that is not open.
fn unavailable(
    req: &HttpRequest,
    provider: &Provider,
    pages: &Pages,
    why: Availability,
) -> HttpResponse {
    let state = match why {
        Availability::NeedsEmail => "needs_email",
        _ => "closed",
    };
    page(
        req,
        provider,
        pages,
        StatusCode::NOT_FOUND,
        json!({ "state": state }),
    )
}

/// GET /register
pub async fn show(Screen(req, provider, pages): Screen) -> HttpResponse {
    match registration::availability(&provider) {
        Availability::Open => page(
            &req,
            &provider,
            &pages,
            StatusCode::OK,
            json!({ "state": "form" }),
        ),
        why => unavailable(&req, &provider, &pages, why),
    }
}

/// POST /register
pub async fn submit(form: PostedForm, Screen(req, provider, pages): Screen) -> HttpResponse {
    let email = form.field("email").unwrap_or("").to_string();
    let name = form.field("name").unwrap_or("").to_string();
    let again = |status: StatusCode, error: &str| {
        page(
            &req,
            &provider,
            &pages,
            status,
            json!({ "state": "form", "email": email, "name": name, "error": error }),
        )
    };
    if !form.csrf_ok() {
        return again(
            StatusCode::FORBIDDEN,
            "This page had expired. Please try again.",
        );
    }
    let sign_up = SignUp {
        email: &email,
        name: Some(name.as_str()),
        password: form.field("password").unwrap_or(""),
        repeated: form.field("password_again").unwrap_or(""),
    };
    let ip = client_address(&req, provider.config.trust_forwarded_for);
    match registration::register(&provider, sign_up, &ip).await {
        Ok(Ok(Answer::CheckEmail)) => page(
            &req,
            &provider,
            &pages,
            StatusCode::OK,
            json!({ "state": "check_email", "email": email.trim().to_ascii_lowercase() }),
        ),
        Ok(Ok(Answer::SignIn)) => page(
            &req,
            &provider,
            &pages,
            StatusCode::OK,
            json!({ "state": "sign_in", "email": email.trim().to_ascii_lowercase() }),
        ),
        Ok(Err(Refused::Unavailable(why))) => unavailable(&req, &provider, &pages, why),
        Ok(Err(Refused::Invalid(why))) => again(StatusCode::UNPROCESSABLE_ENTITY, &why),
        Err(e) => pages.fail(&e),
    }
}

fn token_of(req: &HttpRequest) -> String {
    let query = Params::parse(req.query_string().as_bytes());
    query.get("token").ok().flatten().unwrap_or("").to_string()
}

/// GET /register/confirm?token=…
pub async fn show_confirm(Screen(req, provider, pages): Screen) -> HttpResponse {
    let token = token_of(&req);
    match registration::pending(&provider, &token).await {
        Ok(Some(email)) => page(
            &req,
            &provider,
            &pages,
            StatusCode::OK,
            json!({ "state": "confirm", "token": token, "email": email }),
        ),
        Ok(None) => page(
            &req,
            &provider,
            &pages,
            StatusCode::NOT_FOUND,
            json!({ "state": "invalid" }),
        ),
        Err(e) => pages.fail(&e),
    }
}

/// POST /register/confirm
pub async fn confirm(form: PostedForm, Screen(req, provider, pages): Screen) -> HttpResponse {
    let token = form.field("token").unwrap_or("").to_string();
    if !form.csrf_ok() {
        return match registration::pending(&provider, &token).await {
            Ok(Some(email)) => page(
                &req,
                &provider,
                &pages,
                StatusCode::FORBIDDEN,
                json!({ "state": "confirm", "token": token, "email": email,
                        "error": "This page had expired. Please confirm again." }),
            ),
            Ok(None) => page(
                &req,
                &provider,
                &pages,
                StatusCode::NOT_FOUND,
                json!({ "state": "invalid" }),
            ),
            Err(e) => pages.fail(&e),
        };
    }
    let ip = client_address(&req, provider.config.trust_forwarded_for);
    let password = form.field("password").unwrap_or("");
    let (status, values) = match registration::confirm(&provider, &token, password, &ip).await {
        Ok(Confirmed::Created(username)) => (
            StatusCode::OK,
            json!({ "state": "created", "username": username }),
        ),
        Ok(Confirmed::Taken) => (StatusCode::CONFLICT, json!({ "state": "taken" })),
        Ok(Confirmed::Invalid) => (StatusCode::NOT_FOUND, json!({ "state": "invalid" })),
        Ok(Confirmed::WrongPassword) => match registration::pending(&provider, &token).await {
            Ok(Some(email)) => (
                StatusCode::UNAUTHORIZED,
                json!({ "state": "confirm", "token": token, "email": email,
                        "error": "That is not the password chosen when signing up with this address. If you did not sign up, ignore this link." }),
            ),
            Ok(None) => (StatusCode::NOT_FOUND, json!({ "state": "invalid" })),
            Err(e) => return pages.fail(&e),
        },
        Err(e) => return pages.fail(&e),
    };
    page(&req, &provider, &pages, status, values)
}
