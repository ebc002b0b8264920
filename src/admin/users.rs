//! Managing users: create with a temporary password, edit, disable (which
//! ends their sessions and tokens at once), reset the password or second
//! factor, delete; and the first admin on an empty database.

use super::{generate_password, AdminError, Context, Page};
use crate::account::notices::{compose_notice_at, Notice};
use crate::account::{password::hash_password, profile, throttle};
use crate::audit_log::{Actor, AuditLog, Event};
use crate::model::{NewUser, Profile, SessionSummary, UserRecord};
use crate::oauth::claims;
use crate::store::Store;
use serde_json::{Map, Value};

/// What creating a user takes besides the password.
#[derive(Debug, Clone, Default)]
pub struct UserInput {
    /// Sign-in name.
    pub username: String,
    /// Email address.
    pub email: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// Admin role.
    pub is_admin: bool,
    /// Whether the email address is verified (the admin vouches for it).
    pub email_verified: bool,
    /// The other standard claims.
    pub profile: Profile,
}

/// Checks a user's custom attributes: names never reserved or standard
/// (`oauth::claims`), values any JSON but null, the lot at most 16 KiB.
pub fn check_claims(claims: &Map<String, Value>) -> Result<(), AdminError> {
    for (name, value) in claims {
        claims::check_claim_name(name).map_err(AdminError::Invalid)?;
        if value.is_null() {
            return Err(AdminError::Invalid(format!(
                "claim {name:?} is null; remove it instead"
            )));
        }
    }
    if Value::Object(claims.clone()).to_string().len() > 16 * 1024 {
        return Err(AdminError::Invalid(
            "a user's custom claims can take up to 16 KiB in all".into(),
        ));
    }
    Ok(())
}

/// How the new password is chosen.
#[derive(Debug, Clone)]
pub enum NewPassword {
    /// Generate one, show it once, and have it changed at first sign-in.
    Temporary,
    /// This one, chosen by the operator (the CLI reads it from stdin).
    Given(String),
}

/// Checks a username: what people type at the sign-in screen.
pub fn check_username(username: &str) -> Result<(), AdminError> {
    if !crate::model::limits::username_ok(username) {
        return Err(AdminError::Invalid(
            "A username has 1 to 64 characters and no spaces.".into(),
        ));
    }
    Ok(())
}

/// A user by id or username, or `NotFound`.
pub async fn find(ctx: &Context<'_>, id_or_username: &str) -> Result<UserRecord, AdminError> {
    if let Some(user) = ctx.store.user_by_id(id_or_username).await? {
        return Ok(user);
    }
    ctx.store
        .user_by_username(id_or_username)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("There is no user {id_or_username:?}.")))
}

/// Users matching `search` by username: each word typed starts a word of
/// their username, name or email (see `Store::list_users`).
pub async fn list(
    ctx: &Context<'_>,
    search: Option<&str>,
    page: i64,
    per_page: i64,
) -> Result<Page<UserRecord>, AdminError> {
    let search = search.map(str::trim).filter(|s| !s.is_empty());
    let page = page.clamp(1, 1_000_000);
    let per_page = per_page.clamp(1, 200);
    let (items, total) = ctx
        .store
        .list_users(search, per_page, (page - 1) * per_page)
        .await?;
    Ok(Page {
        items,
        total: total.count,
        total_exact: total.exact,
        page,
        per_page,
    })
}

/// The user's live browser sessions.
pub async fn sessions(ctx: &Context<'_>, user_id: &str) -> Result<Vec<SessionSummary>, AdminError> {
    Ok(ctx.store.sessions_of_user(user_id, ctx.now).await?)
}

/// The hash of the password to set, and the password to show if generated.
async fn choose_password(
    user_like: &str,
    password: NewPassword,
) -> Result<(String, Option<String>, bool), AdminError> {
    match password {
        NewPassword::Temporary => {
            let generated = generate_password();
            let hash = hash_password(generated.clone()).await?;
            Ok((hash, Some(generated), true))
        }
        NewPassword::Given(p) => {
            profile::check_new_password(user_like, &p, &p)
                .map_err(|why| AdminError::Invalid(why.into()))?;
            Ok((hash_password(p).await?, None, false))
        }
    }
}

/// Creates a user; returns it and, for a temporary password, the password
/// to show once.
pub async fn create(
    ctx: &Context<'_>,
    input: UserInput,
    password: NewPassword,
) -> Result<(UserRecord, Option<String>), AdminError> {
    let username = input.username.trim().to_string();
    check_username(&username)?;
    let (name, email) = profile::check_profile(input.name.as_deref(), input.email.as_deref())
        .map_err(|why| AdminError::Invalid(why.into()))?;
    let standard = profile::check_standard_claims(input.profile).map_err(AdminError::Invalid)?;
    let (password_hash, shown, must_change) = choose_password(&username, password).await?;
    let new = NewUser {
        username: username.clone(),
        email_verified: input.email_verified && email.is_some(),
        email,
        name,
        profile: standard,
        password_hash,
        is_admin: input.is_admin,
        ..NewUser::default()
    };
    let Some(id) = ctx.store.insert_user(&new, must_change, ctx.now).await? else {
        return Err(AdminError::Conflict(format!(
            "The username {username:?} is taken."
        )));
    };
    let user = find(ctx, &id).await?;
    ctx.record("admin.user.created", |e| {
        e.user(&user.id, &user.username)
            .detail("admin", user.is_admin.to_string())
    })
    .await;
    Ok((user, shown))
}

/// Changes a user's name, email (and whether it is verified), standard
/// claims and admin role; `input.username` is not changed.
pub async fn update(ctx: &Context<'_>, user_id: &str, input: UserInput) -> Result<(), AdminError> {
    let user = find(ctx, user_id).await?;
    let (name, email) = profile::check_profile(input.name.as_deref(), input.email.as_deref())
        .map_err(|why| AdminError::Invalid(why.into()))?;
    let standard = profile::check_standard_claims(input.profile).map_err(AdminError::Invalid)?;
    let is_admin = input.is_admin;
    let changes = NewUser {
        email_verified: input.email_verified && email.is_some(),
        email,
        name,
        profile: standard,
        is_admin,
        ..NewUser::default()
    };
    ctx.store.update_user(&user.id, &changes, ctx.now).await?;
    ctx.record("admin.user.updated", |e| {
        e.user(&user.id, &user.username)
            .detail("admin", is_admin.to_string())
    })
    .await;
    // Whether an address is verified is the admin's word when they change
    // it (the user's otherwise, through a link): its own event.
    let was_verified = user.email_verified && user.email == changes.email;
    if changes.email_verified != was_verified {
        let verified = changes.email_verified;
        ctx.record("admin.user.email_verified", |e| {
            e.user(&user.id, &user.username)
                .detail("verified", verified.to_string())
        })
        .await;
    }
    Ok(())
}

/// Replaces a user's custom attributes.
pub async fn set_claims(
    ctx: &Context<'_>,
    user_id: &str,
    claims: Map<String, Value>,
) -> Result<(), AdminError> {
    let user = find(ctx, user_id).await?;
    check_claims(&claims)?;
    ctx.store
        .set_user_claims(&user.id, &claims, ctx.now)
        .await?;
    let names: Vec<&str> = claims.keys().map(String::as_str).collect();
    ctx.record("admin.user.claims_set", |e| {
        e.user(&user.id, &user.username)
            .detail("claims", names.join(" "))
    })
    .await;
    Ok(())
}

/// Sets one custom attribute (`Some`) or removes it (`None`).
pub async fn set_claim(
    ctx: &Context<'_>,
    user_id: &str,
    name: &str,
    value: Option<Value>,
) -> Result<(), AdminError> {
    let user = find(ctx, user_id).await?;
    claims::check_claim_name(name).map_err(AdminError::Invalid)?;
    let mut all = user.claims.clone();
    match value {
        Some(v) => {
            all.insert(name.to_string(), v);
        }
        None => {
            if all.remove(name).is_none() {
                return Err(AdminError::NotFound(format!(
                    "{} has no claim {name:?}.",
                    user.username
                )));
            }
        }
    }
    set_claims(ctx, &user.id, all).await
}

/// Disables or enables a user. Disabling ends their browser sessions and
/// revokes every grant, so their refresh and access tokens stop at once.
pub async fn set_disabled(
    ctx: &Context<'_>,
    user_id: &str,
    disabled: bool,
) -> Result<(), AdminError> {
    let user = find(ctx, user_id).await?;
    ctx.store
        .set_user_disabled(&user.id, disabled, ctx.now)
        .await?;
    if disabled {
        ctx.store.delete_user_sessions(&user.id, ctx.now).await?;
        ctx.store.revoke_user_grants(&user.id, ctx.now).await?;
    }
    let name = if disabled {
        "admin.user.disabled"
    } else {
        "admin.user.enabled"
    };
    ctx.record(name, |e| e.user(&user.id, &user.username)).await;
    Ok(())
}

/// Sets a new password (generated and temporary, or given) and ends the
/// user's sessions; also clears their failed-sign-in delay.
pub async fn reset_password(
    ctx: &Context<'_>,
    user_id: &str,
    password: NewPassword,
) -> Result<Option<String>, AdminError> {
    let user = find(ctx, user_id).await?;
    let (hash, shown, must_change) = choose_password(&user.username, password).await?;
    ctx.store
        .reset_password_hash(&user.id, &hash, must_change, ctx.now)
        .await?;
    ctx.store.delete_user_sessions(&user.id, ctx.now).await?;
    throttle::forget(ctx.store, &user.username).await?;
    ctx.store.forget_password_links(&user.id).await?;
    ctx.record("admin.user.password_reset", |e| {
        e.user(&user.id, &user.username)
            .detail("temporary", must_change.to_string())
    })
    .await;
    Ok(shown)
}

/// Removes the user's second factor (they can enrol again from their
/// account page, or are asked to by clients that require it).
pub async fn reset_mfa(ctx: &Context<'_>, user_id: &str) -> Result<(), AdminError> {
    let user = find(ctx, user_id).await?;
    // The user hears of it: a second factor gone is worth knowing.
    let notice = compose_notice_at(ctx.config, ctx.now, &user, &Notice::MfaOff, None)?;
    ctx.store
        .remove_totp(&user.id, notice.as_ref(), ctx.now)
        .await?;
    ctx.record("admin.user.mfa_reset", |e| e.user(&user.id, &user.username))
        .await;
    Ok(())
}

/// Seconds until the user's sign-in delays have all passed (0 when none is
/// running).
pub async fn sign_in_delay(ctx: &Context<'_>, user: &UserRecord) -> Result<i64, AdminError> {
    Ok(throttle::delayed_for(ctx.store, &user.username, ctx.now).await?)
}

/// Clears the user's failed-sign-in counters, every browser's and
/// address's: no attempt waits any more.
pub async fn unlock(ctx: &Context<'_>, user_id: &str) -> Result<(), AdminError> {
    let user = find(ctx, user_id).await?;
    throttle::clear(ctx.store, &user.username).await?;
    ctx.record("admin.user.unlocked", |e| e.user(&user.id, &user.username))
        .await;
    Ok(())
}

/// Deletes a user with their sessions, grants and consents, and forgets
/// their failure counters and trusted browsers.
pub async fn delete(ctx: &Context<'_>, user_id: &str) -> Result<(), AdminError> {
    let user = find(ctx, user_id).await?;
    ctx.store.delete_user(&user.id, ctx.now).await?;
    throttle::forget(ctx.store, &user.username).await?;
    ctx.record("admin.user.deleted", |e| e.user(&user.id, &user.username))
        .await;
    Ok(())
}

/// What the first-run check did.
#[derive(Debug, PartialEq, Eq)]
pub enum FirstAdmin {
    /// An enabled admin exists: nothing to do.
    Exists,
    /// `admin` was created, with this generated password to print once,
    /// or with the one supplied.
    Created(Option<String>),
    /// There is no admin, but a user named `admin` exists without the role:
    /// it is left alone, and an admin must be made with the CLI.
    NameTaken,
}

/// On a database without an enabled admin, creates `admin` with
/// `password` or a generated one, to be changed at first sign-in.
pub async fn ensure_first_admin(
    store: &Store,
    audit: &AuditLog,
    password: Option<String>,
    now: i64,
) -> Result<FirstAdmin, AdminError> {
    if store.admin_exists().await? {
        return Ok(FirstAdmin::Exists);
    }
    let (hash, shown) = match password {
        Some(p) if !p.is_empty() => (hash_password(p).await?, None),
        _ => {
            let generated = generate_password();
            (hash_password(generated.clone()).await?, Some(generated))
        }
    };
    let new = NewUser {
        username: "admin".into(),
        name: Some("Administrator".into()),
        password_hash: hash,
        is_admin: true,
        ..NewUser::default()
    };
    let Some(id) = store.insert_user(&new, true, now).await? else {
        // Another replica starting at the same moment created it first, or
        // someone who is not an admin already has the name: an existing
        // account is never taken over.
        return Ok(if store.admin_exists().await? {
            FirstAdmin::Exists
        } else {
            FirstAdmin::NameTaken
        });
    };
    audit
        .record(
            now,
            Event::new("admin.user.created", Actor::System)
                .user(&id, "admin")
                .detail("first_run", "true"),
        )
        .await;
    Ok(FirstAdmin::Created(shown))
}
