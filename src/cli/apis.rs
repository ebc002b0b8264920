//! `gatehouse api add | remove | list`: APIs (resource servers, RFC 8707).

use super::CliError;
use crate::admin::apis;
use crate::admin::Context;
use crate::model::{ApiRecord, ApiScope, Roles};
use clap::Subcommand;

/// What `gatehouse api` does.
#[derive(Debug, Subcommand)]
pub enum ApiAction {
    /// Register an API. Its identifier is an absolute URI without fragment:
    /// the `resource` clients ask for and the `aud` of its tokens.
    Add {
        /// Absolute URI, e.g. https://api.example.com/.
        identifier: String,
        /// Display name (default: the identifier).
        #[arg(long)]
        name: Option<String>,
        /// A scope of the API (repeat for several); words after a space
        /// are its description for the consent screen: "read Read your data".
        #[arg(long = "scope", value_name = "NAME[ DESCRIPTION]")]
        scopes: Vec<String>,
        /// How its access tokens are signed: RS256, ES256 or EdDSA.
        #[arg(long, default_value = "RS256")]
        signing_alg: String,
        /// Lifetime of its access tokens in seconds (default: the client's
        /// or the server's).
        #[arg(long)]
        access_token_ttl: Option<i64>,
        /// A role and the groups that hold it (repeat for several).
        #[arg(long = "role", value_name = "ROLE=GROUP[,GROUP…]")]
        roles: Vec<String>,
    },
    /// Delete an API; clients can no longer ask tokens for it.
    Remove {
        /// Its identifier.
        identifier: String,
    },
    /// List APIs.
    List,
}

/// `ROLE=GROUP,GROUP` options as roles.
fn parse_roles(options: &[String]) -> Result<Roles, CliError> {
    let mut roles = Roles::new();
    for option in options {
        let Some((role, groups)) = option.split_once('=') else {
            return Err(CliError::invalid(format!(
                "--role {option:?}: write ROLE=GROUP or ROLE=GROUP,GROUP"
            )));
        };
        let holders = roles.entry(role.trim().to_string()).or_default();
        holders.extend(
            groups
                .split(',')
                .map(str::trim)
                .filter(|g| !g.is_empty())
                .map(str::to_string),
        );
    }
    Ok(roles)
}

pub(super) async fn run(ctx: &Context<'_>, action: ApiAction) -> Result<(), CliError> {
    match action {
        ApiAction::Add {
            identifier,
            name,
            scopes,
            signing_alg,
            access_token_ttl,
            roles,
        } => {
            let scopes = scopes
                .iter()
                .map(|s| {
                    let (name, description) = s.trim().split_once(' ').unwrap_or((s.trim(), ""));
                    ApiScope {
                        name: name.to_string(),
                        description: description.trim().to_string(),
                    }
                })
                .collect();
            let api = ApiRecord {
                identifier: identifier.trim().to_string(),
                name: name.unwrap_or_default(),
                scopes,
                roles: parse_roles(&roles)?,
                access_token_ttl,
                signing_alg,
            };
            let identifier = api.identifier.clone();
            apis::save(ctx, api, false).await?;
            println!("Registered API {identifier}.");
        }
        ApiAction::Remove { identifier } => {
            apis::delete(ctx, &identifier).await?;
            println!("Removed API {identifier}.");
        }
        ApiAction::List => {
            println!(
                "{:<40} {:<24} {:<6} {:<8} SCOPES",
                "IDENTIFIER", "NAME", "ALG", "TTL"
            );
            for a in apis::list(ctx).await? {
                let scopes: Vec<&str> = a.scopes.iter().map(|s| s.name.as_str()).collect();
                println!(
                    "{:<40} {:<24} {:<6} {:<8} {}",
                    a.identifier,
                    a.name,
                    a.signing_alg,
                    a.access_token_ttl
                        .map_or_else(|| "-".to_string(), |t| t.to_string()),
                    if scopes.is_empty() {
                        "-".to_string()
                    } else {
                        scopes.join(" ")
                    }
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_roles;

    #[test]
    fn roles_are_read_from_role_equals_groups() {
        let roles = parse_roles(&[
            "reader=engineering,ops".into(),
            "writer=ops".into(),
            "reader=support".into(),
        ])
        .unwrap();
        assert_eq!(roles["reader"], ["engineering", "ops", "support"]);
        assert_eq!(roles["writer"], ["ops"]);
        assert!(parse_roles(&["reader".into()]).is_err());
    }
}
