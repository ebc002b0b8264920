//! The upstream form of the admin screens: an upstream's settings as the
//! form shows them, the form as it was typed, and the posted form read back
//! into settings. The client secret is write-only: no field is ever filled
//! with it, and an empty one keeps the stored secret.

use super::ui;
use crate::admin::upstreams::{ClaimSettings, UpstreamSettings, UpstreamView};
use crate::oauth::params::Params;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The claim mapping's fields, as `claim_<field>` in the form.
const CLAIM_FIELDS: [&str; 6] = [
    "subject",
    "username",
    "email",
    "email_verified",
    "name",
    "groups",
];

/// The checkboxes, by the setting each is named after.
const FLAGS: [&str; 5] = [
    "jit",
    "link_by_verified_email",
    "mfa",
    "sign_out_upstream",
    "enabled",
];

/// A group map as the form shows it: `upstream-group = local-group`, one
/// per line.
fn group_map_text(map: &BTreeMap<String, String>) -> String {
    map.iter()
        .map(|(upstream, local)| format!("{upstream} = {local}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reads a group map written one mapping per line as
/// `upstream-group = local-group`; the sentence for a line that is not.
/// The last `=` splits a line: local group names never hold one.
fn read_group_map(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut map = BTreeMap::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match line.rsplit_once('=') {
            Some((upstream, local)) if !upstream.trim().is_empty() && !local.trim().is_empty() => {
                map.insert(upstream.trim().to_string(), local.trim().to_string());
            }
            _ => {
                return Err(format!(
                    "Write each group mapping as \u{201c}upstream-group = local-group\u{201d}; {line:?} is not."
                ))
            }
        }
    }
    Ok(map)
}

/// The form's fields for a stored upstream (what the edit screen shows).
pub(super) fn fields(view: &UpstreamView) -> Value {
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    let mut values = json!({
        "id": view.id,
        "kind": view.kind,
        "name": view.name,
        "icon": text(&view.icon),
        "issuer": text(&view.issuer),
        "authorization_endpoint": text(&view.authorization_endpoint),
        "token_endpoint": text(&view.token_endpoint),
        "userinfo_endpoint": text(&view.userinfo_endpoint),
        "client_id": view.client_id,
        "scopes": view.scopes.join(" "),
        "jit": view.jit,
        "link_by_verified_email": view.link_by_verified_email,
        "mfa": view.mfa,
        "sign_out_upstream": view.sign_out_upstream,
        "enabled": view.enabled,
        "group_map": group_map_text(&view.group_map),
    });
    for (field, path) in view.claims.paths() {
        values[format!("claim_{field}")] = json!(path);
    }
    values
}

/// The form's fields as they were typed, for a form that was refused
/// (every field but the secret).
pub(super) fn typed_fields(form: &Params, id: &str) -> Value {
    let mut values = json!({ "id": id, "group_map": ui::field(form, "group_map") });
    for name in [
        "kind",
        "name",
        "icon",
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "client_id",
        "scopes",
    ] {
        values[name] = json!(ui::field(form, name));
    }
    for flag in FLAGS {
        values[flag] = json!(ui::checked(form, flag));
    }
    for field in CLAIM_FIELDS {
        let name = format!("claim_{field}");
        values[name.as_str()] = json!(ui::field(form, &name));
    }
    values
}

/// Reads the upstream form into settings for the upstream `id`; the
/// sentence if the group map cannot be read. Empty fields are left out:
/// an empty secret keeps the stored one, empty scopes and claims take the
/// kind's defaults.
pub(super) fn read_settings(form: &Params, id: &str) -> Result<UpstreamSettings, String> {
    let optional = |name: &str| {
        let value = ui::field(form, name);
        (!value.trim().is_empty()).then_some(value)
    };
    let claim = |field: &str| optional(&format!("claim_{field}"));
    let scopes: Vec<String> = ui::field(form, "scopes")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    Ok(UpstreamSettings {
        id: id.to_string(),
        kind: ui::field(form, "kind"),
        name: ui::field(form, "name"),
        icon: optional("icon"),
        issuer: optional("issuer"),
        authorization_endpoint: optional("authorization_endpoint"),
        token_endpoint: optional("token_endpoint"),
        userinfo_endpoint: optional("userinfo_endpoint"),
        client_id: ui::field(form, "client_id"),
        client_secret: form
            .get("client_secret")
            .ok()
            .flatten()
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        scopes: (!scopes.is_empty()).then_some(scopes),
        jit: Some(ui::checked(form, "jit")),
        link_by_verified_email: ui::checked(form, "link_by_verified_email"),
        mfa: ui::checked(form, "mfa"),
        sign_out_upstream: ui::checked(form, "sign_out_upstream"),
        enabled: Some(ui::checked(form, "enabled")),
        claims: Some(ClaimSettings {
            subject: claim("subject"),
            username: claim("username"),
            email: claim("email"),
            email_verified: claim("email_verified"),
            name: claim("name"),
            groups: claim("groups"),
        }),
        group_map: read_group_map(&ui::field(form, "group_map"))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_maps_are_read_line_by_line() {
        let map = read_group_map("  admins = ops\n\nteam=a=b = engineering\n").unwrap();
        assert_eq!(map.get("admins").map(String::as_str), Some("ops"));
        assert_eq!(map.get("team=a=b").map(String::as_str), Some("engineering"));
        assert!(read_group_map("admins ops").is_err());
        assert!(read_group_map(" = ops").is_err());
        assert!(read_group_map("admins =").is_err());
        assert_eq!(group_map_text(&map), "admins = ops\nteam=a=b = engineering");
    }
}
