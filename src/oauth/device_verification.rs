//! The user's side of the device flow (RFC 8628 §3.3): a signed-in person
//! types (or confirms) the user code a device shows, sees which application
//! asks for what, and allows or denies it. The rules of the code flow hold
//! before allowing: the client's allowed groups, its demand for a second
//! factor, a password an admin set (`next_step` decides the same for an
//! authorization request). Wrong codes are audited and limited per address
//! (RFC 8628 §5.1): a user code is short, and guessing one would hand the
//! guesser's approval to someone else's device.

use super::user_code;
use crate::audit_log::Event;
use crate::model::{
    multi_factor, ClientRecord, DeviceApproval, DeviceStatus, SessionRecord, UserRecord,
};
use crate::rate_limiter::{Class, Holder};
use crate::state::Provider;
use crate::store::StoreError;
use std::net::IpAddr;
use std::time::Instant;

/// A code waiting for its user's decision.
#[derive(Debug, Clone)]
pub struct Pending {
    /// The code, normalised.
    pub code: String,
    /// The code as people see it (`XXXX-XXXX`).
    pub shown: String,
    /// The application that asked.
    pub client: ClientRecord,
    /// What it asks for, in words.
    pub scopes: Vec<String>,
}

/// What a typed code turned out to be.
#[derive(Debug, Clone)]
pub enum Lookup {
    /// A code waiting for a decision.
    Pending(Box<Pending>),
    /// No such code (or not shaped like one); counted against the address.
    Wrong,
    /// Too many wrong codes from this address: wait this many seconds.
    Throttled(u64),
    /// The code's time is up.
    Expired,
    /// Someone already allowed or denied it.
    Decided,
}

/// Why the signed-in user may not allow the device yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Barrier {
    /// Not in the client's allowed groups.
    NoAccess,
    /// An admin set the password, which must be replaced first.
    ChangePassword,
    /// The client requires a second factor this session lacks; `enrolled`
    /// says whether the user has one to sign in with (or must set one up).
    SecondFactor {
        /// Whether the user has a second factor.
        enrolled: bool,
    },
}

/// The outcome of a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decided {
    /// Recorded: the device will get its tokens.
    Allowed,
    /// Recorded: the device will be told `access_denied`.
    Denied,
    /// The code was decided or expired meanwhile.
    Gone,
}

fn address(ip: &str) -> Option<IpAddr> {
    ip.parse().ok()
}

/// Looks up what `user` typed from `ip`. Every lookup is first counted
/// against both the address's and the account's budget, so that parallel
/// guesses cannot all pass a check made before any was counted, and a
/// person cannot dodge the limit by changing address; a code that exists
/// gets its count back, so only wrong codes spend the budget. A wrong code
/// is audited.
pub async fn look_up(
    provider: &Provider,
    typed: &str,
    (user, ip): (&UserRecord, &str),
) -> Result<Lookup, StoreError> {
    let limiter = &provider.rate_limiter;
    let now = Instant::now();
    let holders: Vec<Holder> = address(ip)
        .map(Holder::Address)
        .into_iter()
        .chain([Holder::Account(user.id.clone())])
        .collect();
    for (taken, holder) in holders.iter().enumerate() {
        if let Err(wait) = limiter.take(Class::UserCode, holder.clone(), now) {
            for earlier in &holders[..taken] {
                limiter.refund(Class::UserCode, earlier.clone());
            }
            return Ok(Lookup::Throttled(wait));
        }
    }
    let found = match user_code::normalise(typed) {
        Some(code) => {
            let record = provider
                .store
                .device_code_by_user_code(&user_code::hash(&code))
                .await?;
            record.map(|r| (code, r))
        }
        None => None,
    };
    let Some((code, record)) = found else {
        let event = Event::by_user("device.user_code_invalid", user).ip(ip);
        provider.audit.record(provider.now(), event).await;
        return Ok(Lookup::Wrong);
    };
    for holder in holders {
        limiter.refund(Class::UserCode, holder);
    }
    if record.status != DeviceStatus::Pending {
        return Ok(Lookup::Decided);
    }
    if record.expires_at <= provider.now() {
        return Ok(Lookup::Expired);
    }
    let Some(client) = provider.store.client(&record.client_id).await? else {
        // The client was deleted since: its code is as good as gone.
        return Ok(Lookup::Expired);
    };
    let scopes: Vec<String> = record.scope.split(' ').map(str::to_string).collect();
    let scopes =
        super::consent::describe_scopes(provider, record.resource.as_deref(), &scopes).await?;
    Ok(Lookup::Pending(Box::new(Pending {
        shown: user_code::display(&code),
        code,
        client,
        scopes,
    })))
}

/// What stands between the signed-in user and allowing `client`, if
/// anything.
pub fn barrier(
    client: &ClientRecord,
    session: &SessionRecord,
    user: &UserRecord,
) -> Option<Barrier> {
    if !client.admits(&user.groups) {
        return Some(Barrier::NoAccess);
    }
    if user.must_change_password {
        return Some(Barrier::ChangePassword);
    }
    if client.require_mfa && !multi_factor(&session.amr) {
        return Some(Barrier::SecondFactor {
            enrolled: user.has_second_factor(),
        });
    }
    None
}

/// Records the user's decision on `pending`: allowing binds the device's
/// tokens to this user and browser session. The caller has checked
/// [`barrier`] for an allow.
pub async fn decide(
    provider: &Provider,
    pending: &Pending,
    (session, user): (&SessionRecord, &UserRecord),
    allow: bool,
    ip: &str,
) -> Result<Decided, StoreError> {
    let now = provider.now();
    let approval = allow.then(|| DeviceApproval {
        user_id: user.id.clone(),
        sid: session.sid.clone(),
        auth_time: session.auth_time,
        amr: session.amr.clone(),
    });
    let recorded = provider
        .store
        .decide_device_code(&user_code::hash(&pending.code), approval.as_ref(), now)
        .await?;
    if !recorded {
        return Ok(Decided::Gone);
    }
    let name = if allow {
        "device.approved"
    } else {
        "device.denied"
    };
    let event = Event::by_user(name, user)
        .client(&pending.client.client_id)
        .ip(ip);
    provider.audit.record(now, event).await;
    tracing::info!(user_id = %user.id, client_id = %pending.client.client_id, allow, "device decided");
    Ok(if allow {
        Decided::Allowed
    } else {
        Decided::Denied
    })
}
