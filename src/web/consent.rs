//! The consent screen (OpenID Connect Core §3.1.2.4): the client's name and
//! the requested scopes in plain words. The decision is
//! `crate::oauth::consent`'s; this renders it and reads the answer.

use super::form::PostedForm;
use super::onward::{self, current_session, redirect};
use super::rate_limit::client_address;
use crate::oauth::consent;
use crate::oauth::pending_requests;
use crate::web::screen::Screen;
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde_json::json;

/// GET /consent
pub async fn show(Screen(req, provider, pages): Screen) -> HttpResponse {
    let params = crate::oauth::params::Params::parse(req.query_string().as_bytes());
    let Some(id) = params.get("request").ok().flatten() else {
        return onward::expired_request(&pages);
    };
    let (request, client) = match pending_requests::load(&provider, id).await {
        Ok(Some(found)) => found,
        Ok(None) => return onward::expired_request(&pages),
        Err(e) => return pages.fail(&e),
    };
    let signed_in = match current_session(&req, &provider).await {
        Ok(found) => found,
        Err(e) => return pages.fail(&e),
    };
    let consented = match &signed_in {
        Some((_, user)) => match consent::consented_scopes(&provider, user, &client).await {
            Ok(scopes) => scopes,
            Err(e) => return pages.fail(&e),
        },
        None => Vec::new(),
    };
    if let Some(elsewhere) = consent::gate(
        &provider,
        (&request, &client),
        signed_in.as_ref(),
        &consented,
        id,
    )
    .await
    {
        return onward::go(&pages, &provider, StatusCode::FOUND, elsewhere);
    }
    let Some((_, user)) = signed_in else {
        return onward::expired_request(&pages);
    };
    let scopes = match consent::described_scopes(&provider, &request).await {
        Ok(scopes) => scopes,
        Err(e) => return pages.fail(&e),
    };
    pages.form(
        &req,
        &provider.config,
        StatusCode::OK,
        "consent.html",
        json!({
            "request": id, "client_name": client.name,
            "username": user.username, "scopes": scopes,
        }),
    )
}

/// POST /consent
pub async fn submit(form: PostedForm, Screen(req, provider, pages): Screen) -> HttpResponse {
    let field = |name: &str| form.field(name);
    let Some(id) = field("request") else {
        return onward::expired_request(&pages);
    };
    if !form.csrf_ok() {
        return pages.error(
            StatusCode::FORBIDDEN,
            "This form had expired",
            "Nothing was shared. Go back to the application and sign in again.",
        );
    }
    let (request, client) = match pending_requests::load(&provider, id).await {
        Ok(Some(found)) => found,
        Ok(None) => return onward::expired_request(&pages),
        Err(e) => return pages.fail(&e),
    };
    let signed_in = match current_session(&req, &provider).await {
        Ok(found) => found,
        Err(e) => return pages.fail(&e),
    };
    // Allowing counts as consent to every requested scope; everything else
    // must still hold, so the form cannot short-cut the login screen.
    if field("decision") == Some("allow") {
        if let Some(elsewhere) = consent::gate(
            &provider,
            (&request, &client),
            signed_in.as_ref(),
            &request.consent_keys(&client),
            id,
        )
        .await
        {
            return onward::go(&pages, &provider, StatusCode::SEE_OTHER, elsewhere);
        }
    }
    let Some((session, user)) = signed_in else {
        let base = provider.config.base_path();
        return redirect(StatusCode::SEE_OTHER, &format!("{base}/login?request={id}"));
    };
    let ip = client_address(&req, provider.config.trust_forwarded_for);
    let pending = (&request, &client);
    let answer = match field("decision") {
        Some("allow") => consent::allow(&provider, id, pending, (&session, &user), &ip).await,
        Some("deny") => consent::deny(&provider, id, pending, &user, &ip).await,
        _ => {
            return pages.error(
                StatusCode::BAD_REQUEST,
                "Choose Allow or Deny",
                "Go back and choose whether to share your account.",
            )
        }
    };
    match answer {
        Ok(answer) => onward::to_client(&pages, StatusCode::SEE_OTHER, &answer),
        Err(e) => pages.fail(&e),
    }
}
