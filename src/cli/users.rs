//! `gatehouse user add | invite | list | disable | enable | passwd | reset-mfa
//! | unlock | delete | set-claim | unset-claim | passkeys | remove-passkey`.
//!
//! `invite` writes the invitation to the outbox in the database; a running
//! server's sender task delivers it (within a second), so it needs the
//! server's email settings (`GATEHOUSE_SMTP_URL`, `GATEHOUSE_EMAIL_FROM`,
//! `GATEHOUSE_ISSUER`) to compose the message and its link.

use super::password::read_new_password;
use super::CliError;
use crate::admin::invitations::{self, Invitee};
use crate::admin::users::{self, NewPassword, UserInput};
use crate::admin::{passkeys, Context};
use crate::calendar::from_unix;
use crate::config::Config;
use clap::Subcommand;

/// What `gatehouse user` does.
#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Create a user. The password is read from standard input (one line)
    /// or prompted for; never given on the command line.
    Add {
        /// Sign-in name.
        username: String,
        /// Email address.
        #[arg(long)]
        email: String,
        /// Display name.
        #[arg(long)]
        name: Option<String>,
        /// Give the admin role.
        #[arg(long)]
        admin: bool,
        /// Generate a temporary password, print it once, and have it
        /// changed at first sign-in.
        #[arg(long)]
        generate_password: bool,
    },
    /// Invite a user by email: the account is made without a password, and
    /// the user gets a link (valid 7 days) to choose one. A running server
    /// sends the message.
    Invite {
        /// Sign-in name.
        username: String,
        /// The address the invitation goes to.
        email: String,
        /// Display name.
        #[arg(long)]
        name: Option<String>,
        /// Give the admin role.
        #[arg(long)]
        admin: bool,
    },
    /// List users (username, email, name, flags).
    List {
        /// Only those whose username, name or email contains this.
        #[arg(long)]
        search: Option<String>,
    },
    /// Disable a user: their sessions end and their tokens are revoked.
    Disable {
        /// Username.
        username: String,
    },
    /// Enable a disabled user.
    Enable {
        /// Username.
        username: String,
    },
    /// Set a new password (stdin or prompt), ending the user's sessions.
    Passwd {
        /// Username.
        username: String,
        /// Generate a temporary password instead, print it once, and have
        /// it changed at the next sign-in.
        #[arg(long)]
        generate_password: bool,
    },
    /// Remove the user's two-step verification.
    ResetMfa {
        /// Username.
        username: String,
    },
    /// Clear the user's failed sign-ins, so that no browser or address
    /// has to wait before signing in as them.
    Unlock {
        /// Username.
        username: String,
    },
    /// Delete a user with their sessions, grants and consents.
    Delete {
        /// Username.
        username: String,
    },
    /// Set a custom attribute, released through custom scopes.
    SetClaim {
        /// Username.
        username: String,
        /// The attribute's name (not a reserved or standard claim).
        name: String,
        /// Its value as JSON (42, true, ["a","b"], {"k":"v"}, "text"); what
        /// is not JSON is taken as a string.
        #[arg(allow_hyphen_values = true)]
        value: String,
    },
    /// Remove a custom attribute.
    UnsetClaim {
        /// Username.
        username: String,
        /// The attribute's name.
        name: String,
    },
    /// List the user's passkeys (id, name, when added, when last used).
    Passkeys {
        /// Username.
        username: String,
    },
    /// Remove one of the user's passkeys: it no longer signs them in.
    RemovePasskey {
        /// Username.
        username: String,
        /// The passkey's id, as `gatehouse user passkeys` lists it.
        passkey_id: String,
    },
}

/// A value typed on the command line: JSON if it parses, a string otherwise.
fn claim_value(typed: &str) -> serde_json::Value {
    serde_json::from_str(typed).unwrap_or_else(|_| serde_json::Value::String(typed.to_string()))
}

fn password(username: &str, generate: bool) -> Result<NewPassword, CliError> {
    Ok(if generate {
        NewPassword::Temporary
    } else {
        NewPassword::Given(read_new_password(username)?)
    })
}

pub(super) async fn run(
    ctx: &Context<'_>,
    config: &Config,
    action: UserAction,
) -> Result<(), CliError> {
    match action {
        UserAction::Invite {
            username,
            email,
            name,
            admin,
        } => {
            let invitee = Invitee {
                username,
                email,
                name,
                is_admin: admin,
            };
            let user = invitations::invite(ctx, config, invitee).await?;
            println!(
                "Invited {} ({}): the invitation to {} is in the outbox; a running server sends it.",
                user.username,
                user.id,
                user.email.as_deref().unwrap_or("-")
            );
        }
        UserAction::Add {
            username,
            email,
            name,
            admin,
            generate_password,
        } => {
            let input = UserInput {
                username: username.clone(),
                email: Some(email),
                name,
                is_admin: admin,
                // The operator typed the address and vouches for it.
                email_verified: true,
                profile: Default::default(),
            };
            let chosen = password(&username, generate_password)?;
            let (user, shown) = users::create(ctx, input, chosen).await?;
            println!("Created user {} ({}).", user.username, user.id);
            if let Some(p) = shown {
                println!("Temporary password (shown once, to be changed at first sign-in): {p}");
            }
        }
        UserAction::List { search } => {
            let mut page = 1;
            println!("{:<24} {:<32} {:<24} FLAGS", "USERNAME", "EMAIL", "NAME");
            loop {
                let found = users::list(ctx, search.as_deref(), page, 200).await?;
                for u in &found.items {
                    let mut flags = Vec::new();
                    if u.is_admin {
                        flags.push("admin");
                    }
                    if u.disabled {
                        flags.push("disabled");
                    }
                    if u.totp_secret.is_some() {
                        flags.push("mfa");
                    }
                    if u.must_change_password {
                        flags.push("must-change-password");
                    }
                    println!(
                        "{:<24} {:<32} {:<24} {}",
                        u.username,
                        u.email.as_deref().unwrap_or("-"),
                        u.name.as_deref().unwrap_or("-"),
                        if flags.is_empty() {
                            "-".to_string()
                        } else {
                            flags.join(",")
                        }
                    );
                }
                if page >= found.pages() {
                    break;
                }
                page += 1;
            }
        }
        UserAction::Disable { username } => {
            let user = users::find(ctx, &username).await?;
            users::set_disabled(ctx, &user.id, true).await?;
            println!("Disabled {username}: their sessions ended and their tokens were revoked.");
        }
        UserAction::Enable { username } => {
            let user = users::find(ctx, &username).await?;
            users::set_disabled(ctx, &user.id, false).await?;
            println!("Enabled {username}.");
        }
        UserAction::Passwd {
            username,
            generate_password,
        } => {
            let user = users::find(ctx, &username).await?;
            let chosen = password(&username, generate_password)?;
            let shown = users::reset_password(ctx, &user.id, chosen).await?;
            println!("Set a new password for {username}; their sessions ended.");
            if let Some(p) = shown {
                println!("Temporary password (shown once, to be changed at the next sign-in): {p}");
            }
        }
        UserAction::ResetMfa { username } => {
            let user = users::find(ctx, &username).await?;
            users::reset_mfa(ctx, &user.id).await?;
            println!("Removed two-step verification for {username}.");
        }
        UserAction::Unlock { username } => {
            let user = users::find(ctx, &username).await?;
            users::unlock(ctx, &user.id).await?;
            println!("Cleared the failed sign-ins of {username}: no browser has to wait.");
        }
        UserAction::Delete { username } => {
            let user = users::find(ctx, &username).await?;
            users::delete(ctx, &user.id).await?;
            println!("Deleted {username}.");
        }
        UserAction::SetClaim {
            username,
            name,
            value,
        } => {
            let value = claim_value(&value);
            users::set_claim(ctx, &username, &name, Some(value.clone())).await?;
            println!("Set {name} of {username} to {value}.");
        }
        UserAction::UnsetClaim { username, name } => {
            users::set_claim(ctx, &username, &name, None).await?;
            println!("Removed {name} of {username}.");
        }
        UserAction::Passkeys { username } => {
            let found = passkeys::list(ctx, &username).await?;
            if found.is_empty() {
                println!("{username} has no passkeys.");
                return Ok(());
            }
            println!(
                "{:<36} {:<24} {:<16} LAST USED (UTC)",
                "ID", "NAME", "ADDED (UTC)"
            );
            for p in &found {
                let last_used = p.last_used_at.map(|t| from_unix(t).minutes());
                println!(
                    "{:<36} {:<24} {:<16} {}",
                    p.id,
                    p.name,
                    from_unix(p.created_at).minutes(),
                    last_used.as_deref().unwrap_or("never")
                );
            }
        }
        UserAction::RemovePasskey {
            username,
            passkey_id,
        } => {
            let removed = passkeys::remove(ctx, &username, &passkey_id).await?;
            println!(
                "Removed the passkey {:?} of {username}: it no longer signs them in.",
                removed.name
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::claim_value;
    use serde_json::json;

    #[test]
    fn a_claim_value_is_json_or_else_a_string() {
        assert_eq!(claim_value("42"), json!(42));
        assert_eq!(claim_value("true"), json!(true));
        assert_eq!(claim_value(r#"["a","b"]"#), json!(["a", "b"]));
        assert_eq!(claim_value(r#""quoted""#), json!("quoted"));
        assert_eq!(claim_value("engineering"), json!("engineering"));
        assert_eq!(claim_value("{not json"), json!("{not json"));
    }
}
