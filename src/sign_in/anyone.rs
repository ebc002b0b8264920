//! Signing in as anyone, in test mode only (`Config::test_mode`): a
//! username, made into a user when unknown, with the groups and claims the
//! test gives, and no password. It is how a test suite signs in as the
//! person a test needs without editing a seed. Outside test mode there is
//! no way in here: [`sign_in`] refuses and the screens offer no form.
//!
//! The claims are one JSON object, read as a seed's user would be:
//! - the standard claims of OpenID Connect Core §5.1 (`email`, `name`,
//!   `given_name`, `phone_number`, `address`, …) set the user's own fields,
//!   released by the `profile`, `email`, `phone` and `address` scopes;
//! - `groups` (an array of names) sets the user's groups, made when unknown;
//! - any other name is a custom claim (the same names as a custom
//!   attribute: the protocol's own, such as `sub` or `aud`, are refused).
//!   Test mode releases a user's custom claims in the ID token and at
//!   UserInfo whatever the scope (`oauth::claims`).
//!
//! A user made here has their username as their subject (`sub`), unless
//! another user already has that id, so a test can name the `sub` it
//! expects. The sign-in counts as multi-factor: a test chose who signs in.

use super::{first_factor, Outcome, Proof, SignInError, Verdict, Visitor};
use crate::model::{limits, NewUser, Profile, UserRecord};
use crate::oauth::claims;
use crate::state::Provider;
use serde_json::{Map, Value};

/// The `amr` of a test-mode sign-in: `test`, not one of RFC 8176's
/// methods, so that a relying party can tell such a session from a real
/// one; and `mfa`, since it counts as multi-factor (a client that requires
/// a second factor takes it).
pub const AMR: &[&str] = &["test", "mfa"];

/// Who a test signs in as. The fields it gives replace the user's; the
/// custom claims it gives are added to theirs.
#[derive(Debug, Clone, Default)]
pub struct Persona {
    /// The username, trimmed.
    pub username: String,
    /// The display name, when given.
    pub name: Option<String>,
    /// The email address, when given.
    pub email: Option<String>,
    /// Whether the address counts as verified (true unless the claims say
    /// `"email_verified": false`).
    pub email_verified: bool,
    /// The other standard claims given.
    pub profile: Profile,
    /// The groups, when given (replacing the user's).
    pub groups: Option<Vec<String>>,
    /// The custom claims, when a claims object was given (added to the
    /// user's, over those of the same names).
    pub claims: Option<Map<String, Value>>,
}

impl Persona {
    /// Reads what a test gave: the username, the groups as
    /// comma-separated names (or `None`) and the claims as the text of a
    /// JSON object (or `None`). `Err` is the sentence to show.
    pub fn read(
        username: &str,
        groups: Option<&str>,
        claims_json: Option<&str>,
    ) -> Result<Persona, String> {
        let claims = match claims_json.map(str::trim).filter(|t| !t.is_empty()) {
            Some(text) => match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(map)) => Some(map),
                Ok(_) => return Err(
                    "The claims must be a JSON object, like {\"email\": \"alice@example.com\"}."
                        .into(),
                ),
                Err(e) => return Err(format!("The claims are not valid JSON: {e}.")),
            },
            None => None,
        };
        let groups = groups
            .map(|text| {
                text.split(',')
                    .map(str::trim)
                    .filter(|g| !g.is_empty())
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .filter(|g| !g.is_empty());
        Persona::from_parts(username, groups, claims)
    }

    /// Builds a persona from a username, groups and a claims object,
    /// sorting the claims into the user's fields (see the module header).
    pub fn from_parts(
        username: &str,
        groups: Option<Vec<String>>,
        claims_object: Option<Map<String, Value>>,
    ) -> Result<Persona, String> {
        let username = username.trim();
        if !limits::username_ok(username) {
            return Err("A username has 1 to 64 characters and no spaces.".into());
        }
        let mut persona = Persona {
            username: username.to_string(),
            email_verified: true,
            groups,
            ..Persona::default()
        };
        let Some(object) = claims_object else {
            return persona.checked();
        };
        let mut standard = Map::new();
        let mut custom = Map::new();
        for (name, value) in object {
            match name.as_str() {
                "groups" => {
                    if persona.groups.is_some() {
                        return Err("Give the groups once: in the groups field or as \"groups\" in the claims.".into());
                    }
                    persona.groups = Some(string_list(&value).ok_or_else(|| {
                        "\"groups\" must be an array of group names.".to_string()
                    })?);
                }
                "name" | "email" => {
                    let text = value
                        .as_str()
                        .ok_or_else(|| format!("\"{name}\" must be a string."))?
                        .to_string();
                    if name == "name" {
                        persona.name = Some(text);
                    } else {
                        persona.email = Some(text);
                    }
                }
                "email_verified" => {
                    persona.email_verified = value
                        .as_bool()
                        .ok_or_else(|| "\"email_verified\" must be true or false.".to_string())?;
                }
                "sub" | "preferred_username" => {
                    return Err(format!(
                        "\"{name}\" comes from the username: sign in as the name you want there."
                    ))
                }
                "updated_at" => {
                    return Err("\"updated_at\" is kept by Gatehouse: leave it out.".into())
                }
                _ if claims::STANDARD.contains(&name.as_str()) => {
                    standard.insert(name, value);
                }
                _ => {
                    claims::check_claim_name(&name).map_err(|why| format!("\"{name}\": {why}"))?;
                    custom.insert(name, value);
                }
            }
        }
        persona.profile = serde_json::from_value(Value::Object(standard))
            .map_err(|e| format!("A standard claim has the wrong type: {e}."))?;
        persona.claims = Some(custom);
        persona.checked()
    }

    fn checked(mut self) -> Result<Persona, String> {
        let (name, email) =
            crate::account::profile::check_profile(self.name.as_deref(), self.email.as_deref())?;
        (self.name, self.email) = (name, email);
        self.profile = crate::account::profile::check_standard_claims(self.profile)?;
        for group in self.groups.iter().flatten() {
            claims::check_group_name(group).map_err(|why| format!("Group \"{group}\": {why}"))?;
        }
        Ok(self)
    }

    /// Whether the persona gives any of the user's own fields.
    fn gives_fields(&self) -> bool {
        self.name.is_some() || self.email.is_some() || self.profile != Profile::default()
    }

    /// `user`'s fields with the persona's over them: what it leaves out
    /// stays as it was.
    fn over(&self, user: &UserRecord) -> Result<NewUser, SignInError> {
        let mut profile = to_object(&user.profile)?;
        profile.extend(to_object(&self.profile)?);
        let profile = serde_json::from_value(Value::Object(profile))
            .map_err(|e| SignInError::Store(crate::store::StoreError::Corrupt(e.to_string())))?;
        let (email, email_verified) = match &self.email {
            Some(email) => (Some(email.clone()), self.email_verified),
            None => (user.email.clone(), user.email_verified),
        };
        Ok(NewUser {
            username: user.username.clone(),
            email,
            email_verified,
            name: self.name.clone().or_else(|| user.name.clone()),
            profile,
            claims: user.claims.clone(),
            password_hash: user.password_hash.clone(),
            is_admin: user.is_admin,
            totp_secret: user.totp_secret.clone(),
        })
    }
}

fn to_object(profile: &Profile) -> Result<Map<String, Value>, SignInError> {
    match serde_json::to_value(profile) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(SignInError::Store(crate::store::StoreError::Corrupt(
            "a profile that is not an object".into(),
        ))),
    }
}

fn string_list(value: &Value) -> Option<Vec<String>> {
    value
        .as_array()?
        .iter()
        .map(|v| v.as_str().map(str::to_string))
        .collect()
}

/// The persona's user: the one with that username, with what the persona
/// gives over its fields, custom claims and groups (what it leaves out
/// stays), or a new one (with the username as its id when free). Groups the
/// persona names that do not exist are made. A disabled user is returned
/// unchanged: the sign-in is refused, and a refusal changes nothing.
pub async fn find_or_make(
    provider: &Provider,
    persona: &Persona,
) -> Result<UserRecord, SignInError> {
    let (store, now) = (&provider.store, provider.now());
    let id = match store.user_by_username(&persona.username).await? {
        Some(user) if user.disabled => return Ok(user),
        Some(user) => {
            if persona.gives_fields() {
                store
                    .update_user(&user.id, &persona.over(&user)?, now)
                    .await?;
            }
            if let Some(claims) = persona.claims.as_ref().filter(|c| !c.is_empty()) {
                let mut merged = user.claims.clone();
                merged.extend(claims.clone());
                store.set_user_claims(&user.id, &merged, now).await?;
            }
            user.id
        }
        None => {
            let new = NewUser {
                username: persona.username.clone(),
                email: persona.email.clone(),
                email_verified: persona.email.is_some() && persona.email_verified,
                name: persona.name.clone(),
                profile: persona.profile.clone(),
                claims: persona.claims.clone().unwrap_or_default(),
                // No password: no password sign-in matches an empty hash.
                password_hash: String::new(),
                is_admin: false,
                totp_secret: None,
            };
            let id = if store.user_by_id(&persona.username).await?.is_none() {
                persona.username.clone()
            } else {
                uuid::Uuid::new_v4().to_string()
            };
            // Made meanwhile by a request racing this one: that user it is.
            store.insert_user_with_id(&id, &new, now).await?;
            match store.user_by_username(&persona.username).await? {
                Some(user) => user.id,
                None => id,
            }
        }
    };
    if let Some(groups) = &persona.groups {
        for group in groups {
            store
                .insert_group(group, "Made by a sign-in in test mode", now)
                .await?;
        }
        store.set_memberships(&id, groups).await?;
    }
    store.user_by_id(&id).await?.ok_or_else(|| {
        SignInError::Store(crate::store::StoreError::Corrupt(format!(
            "the user {:?} was made and is gone",
            persona.username
        )))
    })
}

/// Signs the browser in as `persona`; refused outside test mode and for a
/// disabled user.
pub async fn sign_in(
    provider: &Provider,
    visitor: &Visitor,
    persona: &Persona,
) -> Result<Outcome, SignInError> {
    let check = async {
        if !provider.test_mode() {
            return Ok(Verdict::Refused {
                user: None,
                reason: "test_mode_off",
                problem: "Signing in as anyone works only in test mode.",
            });
        }
        let user = find_or_make(provider, persona).await?;
        if user.disabled {
            return Ok(Verdict::Refused {
                user: Some(user),
                reason: "disabled",
                problem: "This account is disabled.",
            });
        }
        Ok(Verdict::Proved(Proof {
            user,
            amr: AMR,
            multi_factor: true,
            factor: "test_mode",
            federation: Default::default(),
        }))
    };
    first_factor(provider, visitor, &persona.username, check).await
}
