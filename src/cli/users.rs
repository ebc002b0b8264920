//! `gatehouse user add | list | disable | enable | passwd | reset-mfa | delete`.

use super::password::read_new_password;
use super::CliError;
use crate::admin::users::{self, NewPassword, UserInput};
use crate::admin::Context;
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
    /// Delete a user with their sessions, grants and consents.
    Delete {
        /// Username.
        username: String,
    },
}

fn password(username: &str, generate: bool) -> Result<NewPassword, CliError> {
    Ok(if generate {
        NewPassword::Temporary
    } else {
        NewPassword::Given(read_new_password(username)?)
    })
}

pub(super) async fn run(ctx: &Context<'_>, action: UserAction) -> Result<(), CliError> {
    match action {
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
        UserAction::Delete { username } => {
            let user = users::find(ctx, &username).await?;
            users::delete(ctx, &user.id).await?;
            println!("Deleted {username}.");
        }
    }
    Ok(())
}
