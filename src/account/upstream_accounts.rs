//! The local accounts behind sign-ins through upstream providers: which
//! local user an upstream account stands for, creating one on a first
//! sign-in (just in time, where the upstream allows it), linking and
//! unlinking, and keeping the mapped groups in step.
//!
//! A link is made only when the person proved both sides: signed in here
//! and then went to the upstream from the account page ([`link`]), or, for
//! an upstream marked `link_by_verified_email`, when the upstream says the
//! address is verified and exactly one local user has that address,
//! verified, too ([`account_for`]). An account is never linked by a name
//! or an unverified address.

use super::notices::{compose_notice, Notice};
use super::AccountError;
use crate::audit_log::Event;
use crate::model::{NewMail, NewUser, UpstreamLink, UpstreamRecord, UserRecord};
use crate::state::Provider;
use crate::store::{Store, Unlinked};
use crate::upstream_client::identity::Identity;
use std::collections::BTreeSet;

/// Why no local account could be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountProblem {
    /// No link, and the upstream does not create accounts.
    NoAccount,
    /// The linked account is disabled.
    Disabled,
    /// The verified address belongs to a local account already linked to
    /// another account at this upstream.
    EmailTaken,
    /// Linking: the upstream account is linked to another local user.
    LinkedElsewhere,
    /// Linking: this user has another account at this upstream linked.
    AlreadyLinked,
}

impl AccountProblem {
    /// The audit log's word for it.
    pub fn reason(self) -> &'static str {
        match self {
            AccountProblem::NoAccount => "no_account",
            AccountProblem::Disabled => "disabled",
            AccountProblem::EmailTaken => "email_taken",
            AccountProblem::LinkedElsewhere => "linked_elsewhere",
            AccountProblem::AlreadyLinked => "already_linked",
        }
    }
}

/// How an upstream sign-in found its local account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// Through an existing link.
    Linked,
    /// Linked just now by a verified address.
    ByVerifiedEmail,
    /// Created just now.
    Created,
}

/// Whether the user has a password (accounts created through an upstream
/// start without one).
pub fn has_password(user: &UserRecord) -> bool {
    !user.password_hash.is_empty()
}

/// How many ways the user has to sign in: a password, each passkey, each
/// link to an enabled upstream. Removing the last is refused.
pub async fn ways_to_sign_in(provider: &Provider, user: &UserRecord) -> Result<i64, AccountError> {
    let links = provider.store.usable_links_of(&user.id).await?;
    Ok(i64::from(has_password(user)) + user.passkeys + links)
}

/// The local account an upstream sign-in stands for: linked, linked by a
/// verified address, or created; or why there is none.
pub async fn account_for(
    provider: &Provider,
    upstream: &UpstreamRecord,
    identity: &Identity,
) -> Result<Result<(UserRecord, Found), AccountProblem>, AccountError> {
    let store = &provider.store;
    let now = provider.now();
    if let Some(link) = store.upstream_link(&upstream.id, &identity.subject).await? {
        let Some(user) = store.user_by_id(&link.user_id).await? else {
            return Ok(Err(AccountProblem::NoAccount));
        };
        if user.disabled {
            return Ok(Err(AccountProblem::Disabled));
        }
        store
            .upstream_link_used(&upstream.id, &identity.subject, now)
            .await?;
        return Ok(Ok((user, Found::Linked)));
    }
    if let Some(email) = identity
        .email
        .as_deref()
        .filter(|_| upstream.link_by_verified_email && identity.email_verified)
    {
        if let [only] = store.users_with_verified_email(email).await?.as_slice() {
            // An admin account is linked by its owner only, from the
            // account page: an address is not enough to become an admin.
            if let Some(user) = store.user_by_id(only).await?.filter(|u| !u.is_admin) {
                if user.disabled {
                    return Ok(Err(AccountProblem::Disabled));
                }
                let notice = compose_notice(
                    provider,
                    &user,
                    &Notice::UpstreamLinked(upstream.name.clone()),
                    None,
                )?;
                if !insert_link(store, upstream, identity, &user.id, notice, now).await? {
                    return Ok(Err(AccountProblem::EmailTaken));
                }
                record_link(provider, &user, upstream, "verified_email").await;
                return Ok(Ok((user, Found::ByVerifiedEmail)));
            }
        }
    }
    if !upstream.jit {
        return Ok(Err(AccountProblem::NoAccount));
    }
    let user = create(provider, upstream, identity).await?;
    Ok(Ok((user, Found::Created)))
}

/// Links the upstream account to `user`, who signed in here and went to
/// the upstream from the account page.
pub async fn link(
    provider: &Provider,
    user: &UserRecord,
    upstream: &UpstreamRecord,
    identity: &Identity,
) -> Result<Result<(), AccountProblem>, AccountError> {
    let store = &provider.store;
    if let Some(existing) = store.upstream_link(&upstream.id, &identity.subject).await? {
        return Ok(if existing.user_id == user.id {
            Ok(())
        } else {
            Err(AccountProblem::LinkedElsewhere)
        });
    }
    let notice = compose_notice(
        provider,
        user,
        &Notice::UpstreamLinked(upstream.name.clone()),
        None,
    )?;
    if !insert_link(store, upstream, identity, &user.id, notice, provider.now()).await? {
        return Ok(Err(AccountProblem::AlreadyLinked));
    }
    record_link(provider, user, upstream, "account_page").await;
    Ok(Ok(()))
}

/// Why a link could not be removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnlinkProblem {
    /// There is no such link.
    NotLinked,
    /// It is the only way left to sign in (no password, no passkey, no
    /// other link).
    LastWay,
}

/// Removes the user's link to `upstream_id`, unless it is their last way
/// to sign in.
pub async fn unlink(
    provider: &Provider,
    user: &UserRecord,
    upstream_id: &str,
    ip: &str,
) -> Result<Result<(), UnlinkProblem>, AccountError> {
    match provider
        .store
        .unlink_unless_last(&user.id, upstream_id)
        .await?
    {
        Unlinked::Done => {}
        Unlinked::NotLinked => return Ok(Err(UnlinkProblem::NotLinked)),
        Unlinked::LastWay => return Ok(Err(UnlinkProblem::LastWay)),
    }
    let event = Event::by_user("upstream.unlinked", user)
        .detail("upstream", upstream_id.to_string())
        .ip(ip);
    provider.audit.record(provider.now(), event).await;
    Ok(Ok(()))
}

/// An upstream as the account page lists it: linked or not.
#[derive(Debug, Clone)]
pub struct Listed {
    /// The upstream's id.
    pub id: String,
    /// Its button name.
    pub name: String,
    /// The link, if the user has one.
    pub link: Option<UpstreamLink>,
    /// Whether it may be unlinked (it is not the last way to sign in).
    pub may_unlink: bool,
}

/// The upstreams the user has linked, and the enabled ones they may link.
pub async fn overview(provider: &Provider, user: &UserRecord) -> Result<Vec<Listed>, AccountError> {
    let store = &provider.store;
    let links = store.upstream_links_of(&user.id).await?;
    let ways = ways_to_sign_in(provider, user).await?;
    Ok(store
        .upstreams()
        .await?
        .into_iter()
        .filter_map(|u| {
            let link = links.iter().find(|l| l.upstream_id == u.id).cloned();
            (u.enabled || link.is_some()).then(|| Listed {
                // A link to a disabled upstream is no way in: it may go.
                may_unlink: link.is_some() && (!u.enabled || ways > 1),
                id: u.id,
                name: u.name,
                link,
            })
        })
        .collect())
}

/// Puts the user in the local groups the upstream's groups map to, and
/// takes them out of the mapped ones the upstream no longer names. Groups
/// the map does not name are left alone.
pub async fn sync_groups(
    provider: &Provider,
    user: &UserRecord,
    upstream: &UpstreamRecord,
    identity: &Identity,
) -> Result<(), AccountError> {
    if upstream.group_map.is_empty() {
        return Ok(());
    }
    let wanted: BTreeSet<&String> = upstream
        .group_map
        .iter()
        .filter(|(from, _)| identity.groups.contains(from))
        .map(|(_, to)| to)
        .collect();
    let store = &provider.store;
    let known: BTreeSet<String> = store.groups().await?.into_iter().map(|g| g.name).collect();
    for local in upstream.group_map.values().collect::<BTreeSet<_>>() {
        if !known.contains(local) {
            // Deleted since the map was saved (admin::groups refuses that
            // now): nothing to join.
            tracing::warn!(upstream = %upstream.id, group = %local, "an upstream's group map names a group that does not exist");
            continue;
        }
        let member = user.groups.contains(local);
        if wanted.contains(local) && !member {
            store.add_member(local, &user.id).await?;
        } else if !wanted.contains(local) && member {
            store.remove_member(local, &user.id).await?;
        }
    }
    Ok(())
}

async fn insert_link(
    store: &Store,
    upstream: &UpstreamRecord,
    identity: &Identity,
    user_id: &str,
    notice: Option<NewMail>,
    now: i64,
) -> Result<bool, AccountError> {
    Ok(store
        .insert_upstream_link(
            &UpstreamLink {
                upstream_id: upstream.id.clone(),
                subject: identity.subject.clone(),
                user_id: user_id.to_string(),
                email: identity.email.clone().filter(|e| e.len() <= 254),
                created_at: now,
                last_used_at: Some(now),
            },
            notice.as_ref(),
        )
        .await?)
}

async fn record_link(
    provider: &Provider,
    user: &UserRecord,
    upstream: &UpstreamRecord,
    how: &'static str,
) {
    tracing::info!(user_id = %user.id, upstream = %upstream.id, how, "upstream account linked");
    let event = Event::by_user("upstream.linked", user)
        .detail("upstream", upstream.id.clone())
        .detail("how", how);
    provider.audit.record(provider.now(), event).await;
}

/// The username for a new account: the upstream's suggestion if it is a
/// valid and free username, else with a number after it, else the
/// upstream's id and a random tail.
async fn free_username(
    store: &Store,
    upstream: &UpstreamRecord,
    identity: &Identity,
) -> Result<String, AccountError> {
    let suggested = identity
        .username
        .clone()
        .or_else(|| {
            identity
                .email
                .as_deref()
                .and_then(|e| e.split('@').next())
                .map(str::to_string)
        })
        .unwrap_or_default();
    let base: String = suggested
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .take(crate::model::limits::USERNAME - 4)
        .collect();
    if !base.is_empty() {
        for n in 1..=9 {
            let candidate = if n == 1 {
                base.clone()
            } else {
                format!("{base}-{n}")
            };
            if store.user_by_username(&candidate).await?.is_none() {
                return Ok(candidate);
            }
        }
    }
    Ok(random_username(upstream))
}

/// The upstream's id and a random tail.
fn random_username(upstream: &UpstreamRecord) -> String {
    let tail = crate::crypto::random_string(b"abcdefghijkmnpqrstuvwxyz23456789", 8);
    format!("{}-{tail}", upstream.id)
}

/// Creates the account for a first sign-in and links it.
async fn create(
    provider: &Provider,
    upstream: &UpstreamRecord,
    identity: &Identity,
) -> Result<UserRecord, AccountError> {
    let store = &provider.store;
    let now = provider.now();
    let email = identity
        .email
        .as_deref()
        .filter(|e| super::profile::check_profile(None, Some(e)).is_ok())
        .map(str::to_string);
    // An address another account here has verified stays that account's:
    // the new one gets it unverified, so no client takes the two for one
    // person, and linking by address stays unambiguous.
    let taken = match &email {
        Some(address) => !store.users_with_verified_email(address).await?.is_empty(),
        None => false,
    };
    let name = identity
        .name
        .as_deref()
        .filter(|n| super::profile::check_profile(Some(n), None).is_ok())
        .map(str::to_string);
    // Two sign-ins racing for one name: the loser takes a random tail.
    let mut id = None;
    for attempt in 0..3 {
        let username = if attempt == 0 {
            free_username(store, upstream, identity).await?
        } else {
            random_username(upstream)
        };
        let new = NewUser {
            username,
            email_verified: identity.email_verified && email.is_some() && !taken,
            email: email.clone(),
            name: name.clone(),
            // No password: this account signs in through the upstream
            // (or a passkey added later) until one is set.
            password_hash: String::new(),
            ..NewUser::default()
        };
        if let Some(created) = store.insert_user(&new, false, now).await? {
            id = Some(created);
            break;
        }
    }
    let Some(id) = id else {
        return Err(AccountError::Store(crate::store::StoreError::Corrupt(
            "no free username for a new account".into(),
        )));
    };
    // A new account: no notice (there is nobody to warn yet).
    if !insert_link(store, upstream, identity, &id, None, now).await? {
        // Another sign-in with the same upstream account won the race:
        // use its account, and drop the one made here.
        store.delete_user(&id, now).await?;
        let link = store
            .upstream_link(&upstream.id, &identity.subject)
            .await?
            .ok_or_else(|| {
                AccountError::Store(crate::store::StoreError::Corrupt("link vanished".into()))
            })?;
        return store.user_by_id(&link.user_id).await?.ok_or_else(|| {
            AccountError::Store(crate::store::StoreError::Corrupt(
                "linked user vanished".into(),
            ))
        });
    }
    let user = store.user_by_id(&id).await?.ok_or_else(|| {
        AccountError::Store(crate::store::StoreError::Corrupt(
            "new user vanished".into(),
        ))
    })?;
    tracing::info!(user_id = %user.id, upstream = %upstream.id, "account created on first sign-in through an upstream");
    let event =
        Event::by_user("upstream.user_created", &user).detail("upstream", upstream.id.clone());
    provider.audit.record(now, event).await;
    Ok(user)
}
