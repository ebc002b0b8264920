//! `gatehouse group add | remove | list | add-member | remove-member | members`.

use super::CliError;
use crate::admin::groups;
use crate::admin::Context;
use clap::Subcommand;

/// What `gatehouse group` does.
#[derive(Debug, Subcommand)]
pub enum GroupAction {
    /// Create a group.
    Add {
        /// Lowercase letters, digits, '.', '_' or '-': what tokens carry.
        name: String,
        /// What the group is for (one line).
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Delete a group and its memberships; refused while a client or an
    /// API still names it.
    Remove {
        /// Group name.
        name: String,
    },
    /// List groups (name, members, description).
    List,
    /// Add a user to a group.
    AddMember {
        /// Group name.
        group: String,
        /// Username (or user id).
        user: String,
    },
    /// Remove a user from a group; their next token no longer carries it.
    RemoveMember {
        /// Group name.
        group: String,
        /// Username (or user id).
        user: String,
    },
    /// List a group's members.
    Members {
        /// Group name.
        group: String,
    },
}

pub(super) async fn run(ctx: &Context<'_>, action: GroupAction) -> Result<(), CliError> {
    match action {
        GroupAction::Add { name, description } => {
            groups::create(ctx, &name, &description).await?;
            println!("Created group {}.", name.trim());
        }
        GroupAction::Remove { name } => {
            groups::delete(ctx, &name).await?;
            println!("Removed group {name} with its memberships.");
        }
        GroupAction::List => {
            println!("{:<32} {:>7} DESCRIPTION", "GROUP", "MEMBERS");
            for g in groups::list(ctx).await? {
                println!(
                    "{:<32} {:>7} {}",
                    g.name,
                    g.members,
                    if g.description.is_empty() {
                        "-"
                    } else {
                        &g.description
                    }
                );
            }
        }
        GroupAction::AddMember { group, user } => {
            groups::add_member(ctx, &group, &user).await?;
            println!("{user} is a member of {group}.");
        }
        GroupAction::RemoveMember { group, user } => {
            groups::remove_member(ctx, &group, &user).await?;
            println!("Removed {user} from {group}.");
        }
        GroupAction::Members { group } => {
            for username in groups::members(ctx, &group).await? {
                println!("{username}");
            }
        }
    }
    Ok(())
}
