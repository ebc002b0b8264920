//! The admin screens for clients: list, register (a confidential client's
//! secret is shown once), edit redirect URIs, grant types, scopes, consent
//! and MFA policy and token lifetimes, rotate the secret, delete; with the
//! client's live grants.

use super::refresh_origins;
use super::ui::{self, show_secret, AdminForm, AdminUser};
use super::ui_client_form::{client_form, fields, read_spec, typed_fields};
use crate::web::screen::Screen;

use crate::admin::clients::{self, ClientSpec};
use crate::admin::{tokens, AdminError};
use crate::model::{ClientRecord, Lifetimes};
use crate::state::Provider;
use crate::web::display;
use crate::web::pages::Pages;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

fn client_row(c: &ClientRecord) -> Value {
    json!({
        "client_id": c.client_id, "name": c.name, "public": c.is_public(),
        "is_admin": c.is_admin, "grant_types": c.grant_types.join(", "),
        "redirect_uris": c.redirect_uris,
    })
}

/// GET /admin/clients
pub async fn list(admin: AdminUser, Screen(req, provider, pages): Screen) -> HttpResponse {
    let all = match clients::list(&admin.context(&req, &provider)).await {
        Ok(all) => all,
        Err(e) => return ui::failed(&pages, &e),
    };
    ui::render(
        &req,
        &provider,
        &pages,
        &admin,
        (StatusCode::OK, "admin_clients.html", "clients"),
        json!({
            "clients": all.iter().map(client_row).collect::<Vec<_>>(),
            "notice": ui::notice(&req),
        }),
    )
}

/// GET /admin/clients/new
pub async fn new(admin: AdminUser, Screen(req, provider, pages): Screen) -> HttpResponse {
    let blank = ClientSpec {
        client_id: String::new(),
        name: String::new(),
        public: false,
        redirect_uris: Vec::new(),
        post_logout_redirect_uris: Vec::new(),
        grant_types: vec!["authorization_code".into(), "refresh_token".into()],
        scopes: vec![
            "openid".into(),
            "profile".into(),
            "email".into(),
            "offline_access".into(),
        ],
        require_consent: true,
        require_mfa: false,
        is_admin: false,
        lifetimes: Lifetimes::default(),
        access: Default::default(),
        backchannel: Default::default(),
    };
    client_form(
        &req,
        &provider,
        &pages,
        &admin,
        StatusCode::OK,
        fields(&blank),
        None,
        (None, None),
    )
    .await
}

/// POST /admin/clients
pub async fn create(
    AdminForm(admin, form): AdminForm,
    Screen(req, provider, pages): Screen,
) -> HttpResponse {
    let client_id = form
        .get("client_id")
        .ok()
        .flatten()
        .unwrap_or("")
        .trim()
        .to_string();
    let public = form.get("client_type").ok().flatten() == Some("public");
    let again = |spec_fields: Value, status: StatusCode, why: String| {
        let (req, provider, pages, admin) = (&req, &provider, &pages, &admin);
        async move {
            client_form(
                req,
                provider,
                pages,
                admin,
                status,
                spec_fields,
                None,
                (None, Some(&why)),
            )
            .await
        }
    };
    let spec = match read_spec(&form, client_id.clone(), public) {
        Ok(spec) => spec,
        Err(why) => {
            return again(
                typed_fields(&form, &client_id, public),
                StatusCode::BAD_REQUEST,
                why,
            )
            .await
        }
    };
    let ctx = admin.context(&req, &provider);
    match clients::create(&ctx, spec.clone()).await {
        Ok(secret) => {
            refresh_origins(&provider).await;
            let base = provider.config.base_path();
            let continue_to = format!("{base}/admin/clients/{client_id}");
            match secret {
                Some(secret) => show_secret(
                    &req,
                    &provider,
                    &pages,
                    &admin,
                    "clients",
                    json!({
                        "title": format!("{client_id} was registered"),
                        "label": "Client secret",
                        "secret": secret,
                        "explanation": "Put it in the application's configuration now: it is shown only this once and stored only as a hash. Rotate it if it is lost.",
                        "continue_to": continue_to,
                    }),
                ),
                None => ui::done(&provider, &format!("/clients/{client_id}"), "client-saved"),
            }
        }
        Err(e @ (AdminError::Invalid(_) | AdminError::Conflict(_))) => {
            again(fields(&spec), StatusCode::BAD_REQUEST, e.to_string()).await
        }
        Err(e) => ui::failed(&pages, &e),
    }
}

async fn client_page(
    req: &HttpRequest,
    provider: &Provider,
    pages: &Pages,
    admin: &AdminUser,
    record: &ClientRecord,
    shown: Option<Value>,
    (status, notice, problem): (StatusCode, Option<&str>, Option<&str>),
) -> HttpResponse {
    let ctx = admin.context(req, provider);
    let grants = match tokens::live_grants(&ctx, None, Some(&record.client_id)).await {
        Ok(g) => g,
        Err(e) => return ui::failed(pages, &e),
    };
    let grants = Value::Array(
        grants
            .iter()
            .map(|g| {
                json!({
                    "id": g.id, "username": g.username, "user_id": g.user_id,
                    "scope": g.scope, "created": display::date_time(g.created_at),
                })
            })
            .collect(),
    );
    let shown = shown.unwrap_or_else(|| fields(&ClientSpec::of(record)));
    client_form(
        req,
        provider,
        pages,
        admin,
        status,
        shown,
        Some(grants),
        (notice, problem),
    )
    .await
}

/// GET /admin/clients/{client_id}
pub async fn show(
    admin: AdminUser,
    path: web::Path<String>,
    Screen(req, provider, pages): Screen,
) -> HttpResponse {
    let ctx = admin.context(&req, &provider);
    let record = match clients::find(&ctx, &path).await {
        Ok(r) => r,
        Err(e) => return ui::failed(&pages, &e),
    };
    let notice = ui::notice(&req);
    client_page(
        &req,
        &provider,
        &pages,
        &admin,
        &record,
        None,
        (StatusCode::OK, notice, None),
    )
    .await
}

/// POST /admin/clients/{client_id}
pub async fn update(
    path: web::Path<String>,
    AdminForm(admin, form): AdminForm,
    Screen(req, provider, pages): Screen,
) -> HttpResponse {
    let ctx = admin.context(&req, &provider);
    let record = match clients::find(&ctx, &path).await {
        Ok(r) => r,
        Err(e) => return ui::failed(&pages, &e),
    };
    let bad = |shown: Option<Value>, why: String| {
        let (req, provider, pages, admin, record) = (&req, &provider, &pages, &admin, &record);
        async move {
            client_page(
                req,
                provider,
                pages,
                admin,
                record,
                shown,
                (StatusCode::BAD_REQUEST, None, Some(&why)),
            )
            .await
        }
    };
    let spec = match read_spec(&form, record.client_id.clone(), record.is_public()) {
        Ok(spec) => spec,
        Err(why) => {
            let typed = typed_fields(&form, &record.client_id, record.is_public());
            return bad(Some(typed), why).await;
        }
    };
    match clients::update(&ctx, spec.clone()).await {
        Ok(()) => {
            refresh_origins(&provider).await;
            ui::done(
                &provider,
                &format!("/clients/{}", record.client_id),
                "client-saved",
            )
        }
        Err(AdminError::Invalid(why)) => bad(Some(fields(&spec)), why).await,
        Err(e) => ui::failed(&pages, &e),
    }
}

/// POST /admin/clients/{client_id}/{action}: rotate-secret or delete.
pub async fn act(
    path: web::Path<(String, String)>,
    AdminForm(admin, form): AdminForm,
    Screen(req, provider, pages): Screen,
) -> HttpResponse {
    let (client_id, action) = path.into_inner();
    let ctx = admin.context(&req, &provider);
    let record = match clients::find(&ctx, &client_id).await {
        Ok(r) => r,
        Err(e) => return ui::failed(&pages, &e),
    };
    match action.as_str() {
        "rotate-secret" => match clients::rotate_secret(&ctx, &client_id).await {
            Ok(secret) => {
                let base = provider.config.base_path();
                show_secret(
                    &req,
                    &provider,
                    &pages,
                    &admin,
                    "clients",
                    json!({
                        "title": format!("New secret for {client_id}"),
                        "label": "Client secret",
                        "secret": secret,
                        "explanation": "The old secret stopped working. Put this one in the application's configuration now: it is shown only this once.",
                        "continue_to": format!("{base}/admin/clients/{client_id}"),
                    }),
                )
            }
            Err(AdminError::Invalid(why)) => {
                client_page(
                    &req,
                    &provider,
                    &pages,
                    &admin,
                    &record,
                    None,
                    (StatusCode::BAD_REQUEST, None, Some(&why)),
                )
                .await
            }
            Err(e) => ui::failed(&pages, &e),
        },
        "delete" => {
            if form.get("confirm").ok().flatten().map(str::trim) != Some(client_id.as_str()) {
                let why = "To delete the client, type its client ID in the box first.";
                return client_page(
                    &req,
                    &provider,
                    &pages,
                    &admin,
                    &record,
                    None,
                    (StatusCode::BAD_REQUEST, None, Some(why)),
                )
                .await;
            }
            match clients::delete(&ctx, &client_id).await {
                Ok(()) => {
                    refresh_origins(&provider).await;
                    ui::done(&provider, "/clients", "client-deleted")
                }
                Err(e) => ui::failed(&pages, &e),
            }
        }
        _ => pages.error(
            StatusCode::NOT_FOUND,
            "Page not found",
            "There is no such action.",
        ),
    }
}
