//! Self-registration, off unless `self_registration` is set, limited to
//! the domains of `self_registration_domains` when that is set.
//!
//! With `self_registration_verify_email` (the default) no account exists
//! until the address is proved: the sign-up is kept (password hashed) with
//! a link sent to the address, and opening the link creates the account,
//! its address verified. Without it, the account is created at once, its
//! address unverified, and a verification link is sent if email is on.
//!
//! No enumeration: a sign-up for an address that has an account gets the
//! same answer as any other, after the same work (the password is hashed
//! either way); the address's owner gets a message saying someone tried,
//! with a link to reset the password. At most [`PER_ADDRESS_PER_HOUR`]
//! messages go to one address an hour; past that, sign-ups for it are
//! answered the same and send nothing. The web layer limits sign-ups per
//! client address (`web::rate_limit`).

use super::profile::{check_new_password, check_profile};
use super::{email_links, password, AccountError};
use crate::audit_log::{Actor, Event};
use crate::crypto::random_token;
use crate::email::{compose, Letter};
use crate::model::{EmailTokenPurpose, MailKind, NewUser, UserRecord};
use crate::state::Provider;
use crate::store::Registration;
use serde_json::json;

/// Messages about signing up sent to one address in an hour, at most.
pub const PER_ADDRESS_PER_HOUR: i64 = 3;

/// What was typed on the sign-up form.
#[derive(Debug, Clone, Copy)]
pub struct SignUp<'a> {
    /// The address, which is also the user name.
    pub email: &'a str,
    /// A display name, if given.
    pub name: Option<&'a str>,
    /// The password, twice.
    pub password: &'a str,
    /// The repeat.
    pub repeated: &'a str,
}

/// Whether people may sign up here, and if not why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    /// The form is open.
    Open,
    /// `self_registration` is off.
    Closed,
    /// Sign-ups must verify their address, and no email can be sent.
    NeedsEmail,
}

/// Whether the sign-up form is open.
pub fn availability(provider: &Provider) -> Availability {
    let config = &provider.config;
    if !config.self_registration {
        Availability::Closed
    } else if config.self_registration_verify_email && !config.email_enabled() {
        Availability::NeedsEmail
    } else {
        Availability::Open
    }
}

/// The answer to a sign-up the form accepted: the same whether or not the
/// address had an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// A link is on its way (if the address may sign up); opening it
    /// creates the account.
    CheckEmail,
    /// The account exists now (if the address was free); sign in.
    SignIn,
}

/// Why the form was not accepted (nothing about any account).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The form is not open.
    Unavailable(Availability),
    /// A field is not acceptable: the sentence to show.
    Invalid(String),
}

fn domain_allowed(provider: &Provider, email: &str) -> bool {
    let domains = &provider.config.self_registration_domains;
    let domain = email.rsplit('@').next().unwrap_or("").to_ascii_lowercase();
    domains.is_empty() || domains.contains(&domain)
}

/// Signs up: see the module header.
pub async fn register(
    provider: &Provider,
    form: SignUp<'_>,
    ip: &str,
) -> Result<Result<Answer, Refused>, AccountError> {
    let available = availability(provider);
    if available != Availability::Open {
        return Ok(Err(Refused::Unavailable(available)));
    }
    let (name, email) = match check_profile(form.name, Some(form.email)) {
        Ok((name, Some(email))) => (name, email.to_ascii_lowercase()),
        Ok((_, None)) => return Ok(Err(Refused::Invalid("Enter your email address.".into()))),
        Err(why) => return Ok(Err(Refused::Invalid(why.into()))),
    };
    if !domain_allowed(provider, &email) {
        let list = provider.config.self_registration_domains.join(", ");
        return Ok(Err(Refused::Invalid(format!(
            "Sign-up here is open to addresses at {list} only."
        ))));
    }
    if let Err(why) = check_new_password(&email, form.password, form.repeated) {
        return Ok(Err(Refused::Invalid(why.into())));
    }
    // Hashed whether or not it is used: the answer takes as long either way.
    let password_hash = password::hash_password(form.password.to_string()).await?;
    let config = &provider.config;
    let answer = if config.self_registration_verify_email {
        Answer::CheckEmail
    } else {
        Answer::SignIn
    };
    let now = provider.now();
    let store = &provider.store;
    if config.email_enabled()
        && store.registration_mail_since(&email, now - 3600).await? >= PER_ADDRESS_PER_HOUR
    {
        tracing::info!("sign-up for an address that had enough mail this hour: nothing sent");
        return Ok(Ok(answer));
    }
    if store.address_or_username_taken(&email).await? {
        if config.email_enabled() {
            let mail = already_registered(provider, &email)?;
            store.enqueue_mail(&mail, now).await?;
            provider.outbox_wake.notify_one();
        }
        tracing::info!("sign-up for an address that has an account");
        return Ok(Ok(answer));
    }
    if config.self_registration_verify_email {
        let token = random_token();
        let ttl = email_links::VERIFY_TTL;
        let mail = compose(
            config,
            Letter {
                kind: MailKind::Register,
                template: "register",
                recipient: &email,
                subject: format!("Confirm your address to join {}", config.product_name),
                link: format!("{}?token={token}", config.endpoint("/register/confirm")),
                action: "Create my account",
                values: json!({
                    "name": name.clone().unwrap_or_else(|| email.clone()),
                    "address": email,
                    "lifetime": email_links::lifetime_words(ttl),
                }),
            },
        )?;
        let registration = Registration {
            token_hash: email_links::hash(&token),
            email: email.clone(),
            name,
            password_hash,
            expires_at: now + ttl,
        };
        store.insert_registration(&registration, &mail, now).await?;
        provider.outbox_wake.notify_one();
        let event = Event::new("registration.started", Actor::Anonymous).ip(ip);
        provider.audit.record(now, event).await;
        return Ok(Ok(answer));
    }
    // No verification first: the account now, a link to verify it after.
    if let Some(user) = create(provider, &email, name, password_hash, false, ip).await? {
        if config.email_enabled() {
            email_links::send(provider, &user, &email, EmailTokenPurpose::Verify).await?;
        }
    }
    Ok(Ok(answer))
}

/// The message to an address that has an account, when someone signs up
/// with it.
fn already_registered(
    provider: &Provider,
    email: &str,
) -> Result<crate::model::NewMail, AccountError> {
    let config = &provider.config;
    Ok(compose(
        config,
        Letter {
            kind: MailKind::AlreadyRegistered,
            template: "already_registered",
            recipient: email,
            subject: format!("You already have a {} account", config.product_name),
            link: config.endpoint("/forgot-password"),
            action: "Reset my password",
            values: json!({ "address": email }),
        },
    )?)
}

/// Creates the account of a sign-up; `None` if the address or user name
/// was taken meanwhile.
async fn create(
    provider: &Provider,
    email: &str,
    name: Option<String>,
    password_hash: String,
    email_verified: bool,
    ip: &str,
) -> Result<Option<UserRecord>, AccountError> {
    let store = &provider.store;
    if store.address_or_username_taken(email).await? {
        return Ok(None);
    }
    let new = NewUser {
        username: email.to_string(),
        email: Some(email.to_string()),
        email_verified,
        name,
        password_hash,
        ..NewUser::default()
    };
    let Some(id) = store.insert_user(&new, false, provider.now()).await? else {
        return Ok(None);
    };
    let Some(user) = store.user_by_id(&id).await? else {
        return Ok(None);
    };
    tracing::info!(user_id = %user.id, "account created by sign-up");
    let event = Event::by_user("user.registered", &user).ip(ip);
    provider.audit.record(provider.now(), event).await;
    Ok(Some(user))
}

/// What opening a sign-up's link did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmed {
    /// The account exists now, with this user name.
    Created(String),
    /// The address (or user name) has an account already.
    Taken,
    /// The link is used, expired or unknown.
    Invalid,
    /// The password is not the one chosen at sign-up (the link stays).
    WrongPassword,
}

/// The address a sign-up's link is for, while it is live (without using
/// it up).
pub async fn pending(provider: &Provider, token: &str) -> Result<Option<String>, AccountError> {
    let found = provider
        .store
        .registration(&email_links::hash(token), provider.now())
        .await?;
    Ok(found.map(|r| r.email))
}

/// Opens a sign-up's link: creates the account, its address verified.
/// The password chosen at sign-up must be typed again: several sign-ups may
/// wait for one address, and a link in the owner's inbox from someone
/// else's sign-up must not make an account whose password that someone
/// knows.
pub async fn confirm(
    provider: &Provider,
    token: &str,
    password: &str,
    ip: &str,
) -> Result<Confirmed, AccountError> {
    let hash = email_links::hash(token);
    let Some(waiting) = provider.store.registration(&hash, provider.now()).await? else {
        return Ok(Confirmed::Invalid);
    };
    if !password::verify_hash(waiting.password_hash, password.to_string()).await? {
        return Ok(Confirmed::WrongPassword);
    }
    let Some(registration) = provider
        .store
        .take_registration(&email_links::hash(token), provider.now())
        .await?
    else {
        return Ok(Confirmed::Invalid);
    };
    let email = registration.email;
    match create(
        provider,
        &email,
        registration.name,
        registration.password_hash,
        true,
        ip,
    )
    .await?
    {
        Some(user) => Ok(Confirmed::Created(user.username)),
        None => Ok(Confirmed::Taken),
    }
}
