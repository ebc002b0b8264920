//! The client form of the admin screens: a spec's values as the form shows
//! them, and the posted form read back into a spec.

use super::ui::{self, AdminUser};
use crate::admin::clients::{Backchannel, ClientAccess, ClientSpec, GRANT_TYPES};
use crate::admin::{apis, groups, AdminError};
use crate::model::{Lifetimes, Roles};
use crate::oauth::params::Params;
use crate::state::Provider;
use crate::web::pages::Pages;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::{json, Value};

/// The form's fields for a spec (what the edit screen shows).
pub(super) fn fields(spec: &ClientSpec) -> Value {
    let lifetime = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    json!({
        "client_id": spec.client_id,
        "name": spec.name,
        "public": spec.public,
        "redirect_uris": spec.redirect_uris.join("\n"),
        "post_logout_redirect_uris": spec.post_logout_redirect_uris.join("\n"),
        "grant_types": spec.grant_types,
        "scopes": spec
            .scopes
            .iter()
            .filter(|s| *s != crate::oauth::scopes::ADMIN_SCOPE)
            .cloned()
            .collect::<Vec<_>>()
            .join(" "),
        "require_consent": spec.require_consent,
        "require_mfa": spec.require_mfa,
        "is_admin": spec.is_admin,
        "apis": spec.access.apis.join("\n"),
        "allowed_groups": spec.access.allowed_groups.join(" "),
        "introspects": spec.access.introspects.join("\n"),
        "roles": roles_text(&spec.access.roles),
        "access_token_ttl": lifetime(spec.lifetimes.access_token),
        "refresh_token_idle_ttl": lifetime(spec.lifetimes.refresh_token_idle),
        "refresh_token_absolute_ttl": lifetime(spec.lifetimes.refresh_token_absolute),
        "backchannel_logout_uri": spec.backchannel.uri.clone().unwrap_or_default(),
        "backchannel_logout_session_required": spec.backchannel.session_required,
    })
}

/// Reads the client form; the sentence if a lifetime is not a number.
pub(super) fn read_spec(
    form: &Params,
    client_id: String,
    public: bool,
) -> Result<ClientSpec, String> {
    let text = |name: &str| form.get(name).ok().flatten().unwrap_or("").to_string();
    let checked = |name: &str| form.get(name).ok().flatten() == Some("on");
    let lines = |name: &str| -> Vec<String> {
        text(name)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    };
    let lifetime = |name: &str, label: &str| -> Result<Option<i64>, String> {
        let value = text(name);
        let value = value.trim();
        if value.is_empty() {
            return Ok(None);
        }
        value.parse::<i64>().map(Some).map_err(|_| {
            format!("The {label} must be a whole number of seconds, or empty for the default.")
        })
    };
    Ok(ClientSpec {
        client_id,
        name: text("name"),
        public,
        redirect_uris: lines("redirect_uris"),
        post_logout_redirect_uris: lines("post_logout_redirect_uris"),
        grant_types: GRANT_TYPES
            .iter()
            .filter(|g| checked(&format!("grant_{g}")))
            .map(|g| g.to_string())
            .collect(),
        scopes: text("scopes")
            .split_whitespace()
            .map(str::to_string)
            .collect(),
        require_consent: checked("require_consent"),
        require_mfa: checked("require_mfa"),
        is_admin: checked("is_admin"),
        lifetimes: Lifetimes {
            access_token: lifetime("access_token_ttl", "access token lifetime")?,
            refresh_token_idle: lifetime("refresh_token_idle_ttl", "refresh token idle lifetime")?,
            refresh_token_absolute: lifetime(
                "refresh_token_absolute_ttl",
                "refresh token absolute lifetime",
            )?,
        },
        access: ClientAccess {
            apis: lines("apis"),
            allowed_groups: text("allowed_groups")
                .split_whitespace()
                .map(str::to_string)
                .collect(),
            introspects: lines("introspects"),
            roles: read_roles(&text("roles"))?,
        },
        backchannel: Backchannel {
            uri: Some(text("backchannel_logout_uri")).filter(|uri| !uri.trim().is_empty()),
            session_required: checked("backchannel_logout_session_required"),
        },
    })
}

/// Reads roles written one per line as `role: group group …`.
pub(super) fn read_roles(text: &str) -> Result<Roles, String> {
    let mut roles = Roles::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let Some((role, groups)) = line.split_once(':') else {
            return Err(format!(
                "Write each role as \u{201c}role: group group\u{201d}; {line:?} has no colon."
            ));
        };
        roles
            .entry(role.trim().to_string())
            .or_default()
            .extend(groups.split_whitespace().map(str::to_string));
    }
    Ok(roles)
}

/// Roles as the form shows them, one per line.
pub(super) fn roles_text(roles: &Roles) -> String {
    roles
        .iter()
        .map(|(role, groups)| format!("{role}: {}", groups.join(" ")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The form's fields as they were typed, for a form that could not be read.
pub(super) fn typed_fields(form: &Params, client_id: &str, public: bool) -> Value {
    let text = |name: &str| ui::field(form, name);
    json!({
        "client_id": client_id,
        "name": text("name"),
        "public": public,
        "redirect_uris": text("redirect_uris"),
        "post_logout_redirect_uris": text("post_logout_redirect_uris"),
        "grant_types": GRANT_TYPES
            .iter()
            .filter(|g| ui::checked(form, &format!("grant_{g}")))
            .collect::<Vec<_>>(),
        "scopes": text("scopes"),
        "require_consent": ui::checked(form, "require_consent"),
        "require_mfa": ui::checked(form, "require_mfa"),
        "is_admin": ui::checked(form, "is_admin"),
        "apis": text("apis"),
        "allowed_groups": text("allowed_groups"),
        "introspects": text("introspects"),
        "roles": text("roles"),
        "access_token_ttl": text("access_token_ttl"),
        "refresh_token_idle_ttl": text("refresh_token_idle_ttl"),
        "refresh_token_absolute_ttl": text("refresh_token_absolute_ttl"),
        "backchannel_logout_uri": text("backchannel_logout_uri"),
        "backchannel_logout_session_required":
            ui::checked(form, "backchannel_logout_session_required"),
    })
}

/// The client form: new (`grants` is None) or an existing client; with
/// the groups and APIs there are, as hints for the access fields.
#[allow(clippy::too_many_arguments)]
pub(super) async fn client_form(
    req: &HttpRequest,
    provider: &Provider,
    pages: &Pages,
    admin: &AdminUser,
    status: StatusCode,
    fields: Value,
    grants: Option<Value>,
    (notice, problem): (Option<&str>, Option<&str>),
) -> HttpResponse {
    let ctx = admin.context(req, provider);
    let known = async {
        let groups = groups::list(&ctx).await?;
        let apis = apis::list(&ctx).await?;
        Ok::<_, AdminError>((groups, apis))
    }
    .await;
    let (groups, apis) = match known {
        Ok(found) => found,
        Err(e) => return ui::failed(pages, &e),
    };
    ui::render(
        req,
        provider,
        pages,
        admin,
        (status, "admin_client.html", "clients"),
        json!({
            "creating": grants.is_none(),
            "client": fields,
            "grants": grants.unwrap_or(Value::Null),
            "grant_types": GRANT_TYPES,
            "known_groups": groups.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(),
            "known_apis": apis.iter().map(|a| a.identifier.as_str()).collect::<Vec<_>>(),
            "notice": notice,
            "problem": problem,
        }),
    )
}
