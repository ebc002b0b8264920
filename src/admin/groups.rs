//! Managing groups and their members. Group names are what tokens carry
//! (`oauth::claims::check_group_name`). A group still named by a client's
//! allowed groups or roles, or by an API's roles, cannot be deleted: taking
//! it away silently would change who may do what.

use super::{users, AdminError, Context};
use crate::model::GroupRecord;
use crate::oauth::claims;

/// Checks a description: one line, at most 500 characters.
pub fn check_description(text: &str) -> Result<String, AdminError> {
    let text = text.trim();
    if text.chars().count() > 500 || text.chars().any(char::is_control) {
        return Err(AdminError::Invalid(
            "A description can have up to 500 characters, without line breaks.".into(),
        ));
    }
    Ok(text.to_string())
}

/// Every group, by name.
pub async fn list(ctx: &Context<'_>) -> Result<Vec<GroupRecord>, AdminError> {
    Ok(ctx.store.groups().await?)
}

/// A group, or `NotFound`.
pub async fn find(ctx: &Context<'_>, name: &str) -> Result<GroupRecord, AdminError> {
    list(ctx)
        .await?
        .into_iter()
        .find(|g| g.name == name)
        .ok_or_else(|| AdminError::NotFound(format!("There is no group {name:?}.")))
}

/// The usernames of a group's members.
pub async fn members(ctx: &Context<'_>, name: &str) -> Result<Vec<String>, AdminError> {
    find(ctx, name).await?;
    Ok(ctx.store.group_members(name).await?)
}

/// Creates a group.
pub async fn create(ctx: &Context<'_>, name: &str, description: &str) -> Result<(), AdminError> {
    let name = name.trim();
    claims::check_group_name(name).map_err(AdminError::Invalid)?;
    let description = check_description(description)?;
    if !ctx.store.insert_group(name, &description, ctx.now).await? {
        return Err(AdminError::Conflict(format!(
            "A group named {name:?} already exists."
        )));
    }
    ctx.record("admin.group.created", |e| e.detail("group", name))
        .await;
    Ok(())
}

/// Changes a group's description.
pub async fn describe(ctx: &Context<'_>, name: &str, description: &str) -> Result<(), AdminError> {
    find(ctx, name).await?;
    let description = check_description(description)?;
    ctx.store.upsert_group(name, &description, ctx.now).await?;
    ctx.record("admin.group.updated", |e| e.detail("group", name))
        .await;
    Ok(())
}

/// What still names `group`: "client app (allowed groups)", …
async fn references(ctx: &Context<'_>, group: &str) -> Result<Vec<String>, AdminError> {
    let g = group.to_string();
    let mut found = Vec::new();
    for c in ctx.store.list_clients().await? {
        if c.allowed_groups.contains(&g) {
            found.push(format!("client {} (allowed groups)", c.client_id));
        }
        if c.roles.values().any(|holders| holders.contains(&g)) {
            found.push(format!("client {} (roles)", c.client_id));
        }
    }
    for api in ctx.store.apis().await? {
        if api.roles.values().any(|holders| holders.contains(&g)) {
            found.push(format!("API {} (roles)", api.identifier));
        }
    }
    for upstream in ctx.store.upstreams().await? {
        if upstream.group_map.values().any(|local| *local == g) {
            found.push(format!("upstream {} (group map)", upstream.id));
        }
    }
    Ok(found)
}

/// Deletes a group and its memberships, unless something still names it.
pub async fn delete(ctx: &Context<'_>, name: &str) -> Result<(), AdminError> {
    find(ctx, name).await?;
    let used = references(ctx, name).await?;
    if !used.is_empty() {
        return Err(AdminError::Conflict(format!(
            "The group {name:?} is still used by {}; remove it there first.",
            used.join(", ")
        )));
    }
    ctx.store.delete_group(name).await?;
    ctx.record("admin.group.deleted", |e| e.detail("group", name))
        .await;
    Ok(())
}

/// Adds a user (by id or username) to a group.
pub async fn add_member(ctx: &Context<'_>, group: &str, user: &str) -> Result<(), AdminError> {
    find(ctx, group).await?;
    let user = users::find(ctx, user).await?;
    if ctx.store.add_member(group, &user.id).await? {
        ctx.record("admin.group.member_added", |e| {
            e.user(&user.id, &user.username).detail("group", group)
        })
        .await;
    }
    Ok(())
}

/// Removes a user (by id or username) from a group; their next token (a
/// refresh included) no longer carries it.
pub async fn remove_member(ctx: &Context<'_>, group: &str, user: &str) -> Result<(), AdminError> {
    find(ctx, group).await?;
    let user = users::find(ctx, user).await?;
    if !ctx.store.remove_member(group, &user.id).await? {
        return Err(AdminError::NotFound(format!(
            "{} is not a member of {group:?}.",
            user.username
        )));
    }
    ctx.record("admin.group.member_removed", |e| {
        e.user(&user.id, &user.username).detail("group", group)
    })
    .await;
    Ok(())
}

/// Checks that every group in `names` exists.
pub async fn check_exist(ctx: &Context<'_>, names: &[String]) -> Result<(), AdminError> {
    let known: Vec<String> = list(ctx).await?.into_iter().map(|g| g.name).collect();
    match names.iter().find(|n| !known.contains(n)) {
        Some(missing) => Err(AdminError::Invalid(format!(
            "there is no group {missing:?}"
        ))),
        None => Ok(()),
    }
}

/// Makes `names` exactly the groups of a user.
pub async fn set_user_groups(
    ctx: &Context<'_>,
    user_id: &str,
    names: &[String],
) -> Result<(), AdminError> {
    let user = users::find(ctx, user_id).await?;
    check_exist(ctx, names).await?;
    let mut names = names.to_vec();
    names.sort();
    names.dedup();
    if names == user.groups {
        return Ok(());
    }
    ctx.store.set_memberships(&user.id, &names).await?;
    ctx.record("admin.user.groups_set", |e| {
        e.user(&user.id, &user.username)
            .detail("groups", names.join(" "))
    })
    .await;
    Ok(())
}
