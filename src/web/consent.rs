//! The consent screen (OpenID Connect Core §3.1.2.4): the client's name and
//! the requested scopes in plain words; Allow records the consent and issues
//! the code, Deny answers the client with `access_denied`.

use super::audit;
use super::cookies;
use super::flow::{self, current_session, redirect};
use super::pages::Pages;
use crate::crypto::token_hash;
use crate::model::{ClientRecord, SessionRecord, UserRecord};
use crate::oauth::authorize::AuthorizeRequest;
use crate::oauth::error::ErrorCode;
use crate::oauth::next_step::{next_step, NextStep};
use crate::state::Provider;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

/// A scope in words a person understands.
pub fn describe_scope(scope: &str) -> String {
    match scope {
        "openid" => "Know who you are (your account identifier)".into(),
        "profile" => "See your name and username".into(),
        "email" => "See your email address".into(),
        "offline_access" => "Stay connected to your account when you are not using it".into(),
        other => format!("Use the \u{201c}{other}\u{201d} permission"),
    }
}

/// Lets the consent screen go ahead only when consent is what the request
/// needs next (`None`); otherwise answers with where the browser should go
/// instead.
fn gate(
    provider: &Provider,
    pages: &Pages,
    (request, client): (&AuthorizeRequest, &ClientRecord),
    signed_in: Option<&(SessionRecord, UserRecord)>,
    consented: &[String],
    id: &str,
    status: StatusCode,
) -> Option<HttpResponse> {
    let base = provider.config.base_path();
    match next_step(
        request,
        client,
        flow::signed_in(signed_in),
        consented,
        provider.now(),
    ) {
        Ok(NextStep::Consent) | Ok(NextStep::Issue) => None,
        Ok(NextStep::Login) => Some(redirect(status, &format!("{base}/login?request={id}"))),
        Ok(NextStep::ChangePassword) => Some(redirect(
            status,
            &format!("{base}/login/new-password?request={id}"),
        )),
        Ok(NextStep::EnrolMfa) => Some(redirect(
            status,
            &format!("{base}/account/mfa/enrol?request={id}"),
        )),
        Err(e) => Some(flow::error_to_client(pages, provider, status, &e)),
    }
}

/// GET /consent
pub async fn show(
    req: HttpRequest,
    provider: web::Data<Provider>,
    pages: web::Data<Pages>,
) -> HttpResponse {
    let params = crate::oauth::params::Params::parse(req.query_string().as_bytes());
    let Some(id) = params.get("request").ok().flatten() else {
        return flow::expired_request(&pages);
    };
    let (request, client) = match flow::load_request(&provider, id).await {
        Ok(Some(found)) => found,
        Ok(None) => return flow::expired_request(&pages),
        Err(e) => return pages.fail(&e),
    };
    let signed_in = match current_session(&req, &provider).await {
        Ok(found) => found,
        Err(e) => return pages.fail(&e),
    };
    let consented = match &signed_in {
        Some((_, user)) => match provider
            .store
            .consented_scopes(&user.id, &client.client_id)
            .await
        {
            Ok(scopes) => scopes,
            Err(e) => return pages.fail(&e),
        },
        None => Vec::new(),
    };
    if let Some(elsewhere) = gate(
        &provider,
        &pages,
        (&request, &client),
        signed_in.as_ref(),
        &consented,
        id,
        StatusCode::FOUND,
    ) {
        return elsewhere;
    }
    let Some((_, user)) = signed_in else {
        return flow::expired_request(&pages);
    };
    let scopes: Vec<String> = request.scopes.iter().map(|s| describe_scope(s)).collect();
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
    let Some(id) = field("request") else {
        return flow::expired_request(&pages);
    };
    if !cookies::csrf_ok(&req, &provider.config, field("csrf")) {
        return pages.error(
            StatusCode::FORBIDDEN,
            "This form had expired",
            "Nothing was shared. Go back to the application and sign in again.",
        );
    }
    let (request, client) = match flow::load_request(&provider, id).await {
        Ok(Some(found)) => found,
        Ok(None) => return flow::expired_request(&pages),
        Err(e) => return pages.fail(&e),
    };
    let signed_in = match current_session(&req, &provider).await {
        Ok(found) => found,
        Err(e) => return pages.fail(&e),
    };
    // Allowing counts as consent to every requested scope; everything else
    // (a fresh sign-in for prompt=login or max_age, a second factor) must
    // still hold, so the form cannot short-cut the login screen.
    if field("decision") == Some("allow") {
        if let Some(elsewhere) = gate(
            &provider,
            &pages,
            (&request, &client),
            signed_in.as_ref(),
            &request.scopes,
            id,
            StatusCode::SEE_OTHER,
        ) {
            return elsewhere;
        }
    }
    let Some((session, user)) = signed_in else {
        let base = provider.config.base_path();
        return redirect(StatusCode::SEE_OTHER, &format!("{base}/login?request={id}"));
    };
    let now = provider.now();
    let result = async {
        match field("decision") {
            Some("allow") => {
                let mut scopes = provider
                    .store
                    .consented_scopes(&user.id, &client.client_id)
                    .await?;
                for s in &request.scopes {
                    if !scopes.contains(s) {
                        scopes.push(s.clone());
                    }
                }
                provider
                    .store
                    .save_consent(&user.id, &client.client_id, &scopes, now)
                    .await?;
                provider.store.delete_auth_request(&token_hash(id)).await?;
                tracing::info!(user_id = %user.id, client_id = %client.client_id, "consent given");
                let event = crate::audit_log::Event::by_user("consent.given", &user)
                    .client(&client.client_id)
                    .detail("scope", request.scopes.join(" "));
                audit::record(&req, &provider, event).await;
                flow::issue_code(&provider, &pages, StatusCode::SEE_OTHER, &request, &session).await
            }
            Some("deny") => {
                provider.store.delete_auth_request(&token_hash(id)).await?;
                tracing::info!(user_id = %user.id, client_id = %client.client_id, "consent denied");
                let event = crate::audit_log::Event::by_user("consent.denied", &user)
                    .client(&client.client_id);
                audit::record(&req, &provider, event).await;
                let e = request.error(
                    ErrorCode::AccessDenied,
                    "sign-in cancelled: the user chose not to share their account",
                );
                Ok(flow::error_to_client(
                    &pages,
                    &provider,
                    StatusCode::SEE_OTHER,
                    &e,
                ))
            }
            _ => Ok(pages.error(
                StatusCode::BAD_REQUEST,
                "Choose Allow or Deny",
                "Go back and choose whether to share your account.",
            )),
        }
    }
    .await;
    result.unwrap_or_else(|e: crate::store::StoreError| pages.fail(&e))
}
