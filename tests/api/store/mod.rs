//! The store contract: what `gatehouse::store::Store` promises, tested on the
//! store itself with no server in front of it, in the manner of Dex's
//! `storage/conformance`.
//!
//! Every test connects a `Store` to a fresh database and migrates it. The
//! same tests run on both engines: SQLite by default, Postgres when
//! GATEHOUSE_TEST_POSTGRES names a server (CI runs the suite both ways), so
//! a promise that holds on one engine only fails here.
//!
//! Times are fixed unix seconds handed to the store as `now`, as its callers
//! do; what the API does not show is read with SQL on the same database
//! (`helpers::database`). Concurrency tests race several tasks on two
//! stores, as two replicas would, on a multi-threaded runtime.

mod access;
mod backchannel_logout;
mod cache;
mod clients;
mod codes;
mod device_codes;
mod email_links;
mod grants;
mod keys;
mod outbox;
mod passkeys;
mod pruning;
mod refresh;
mod sessions;
mod sign_in;
mod upstreams;
mod users;

use crate::helpers::fresh_database;
use gatehouse::model::{ApiRecord, ApiScope, NewClient, NewCode, NewGrant, NewUser, ScopeRecord};
use gatehouse::store::{Redemption, Store};

/// The time every test starts at.
pub const NOW: i64 = 1_700_000_000;

/// How many tasks race in the concurrency tests.
pub const RACERS: usize = 20;

/// Runs `RACERS` tasks at once, alternating between two stores on one
/// database (two replicas), and returns what each returned, in order.
pub async fn race<T, Work, Task>(stores: (&Store, &Store), work: Work) -> Vec<T>
where
    Work: Fn(Store, usize) -> Task,
    Task: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let racers: Vec<_> = (0..RACERS)
        .map(|i| {
            let store = if i % 2 == 0 { stores.0 } else { stores.1 };
            tokio::spawn(work(store.clone(), i))
        })
        .collect();
    let mut results = Vec::with_capacity(RACERS);
    for racer in racers {
        results.push(racer.await.expect("a racer panicked"));
    }
    results
}

/// A migrated store on a fresh database, and the database's URL.
pub async fn fresh_store() -> (Store, String) {
    let url = fresh_database().await;
    let store = Store::connect(&url).await.expect("connects");
    store.migrate().await.expect("migrates");
    (store, url)
}

/// Another store on the same database, as a second replica has.
pub async fn replica(url: &str) -> Store {
    Store::connect(url).await.expect("connects a second store")
}

/// A new random value's hash, as the store keeps codes and tokens.
pub fn hash() -> String {
    gatehouse::crypto::token_hash(&gatehouse::crypto::random_token())
}

/// A new random id.
pub fn id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// What creating a user named `username` takes (the password hash is a
/// placeholder: the store never looks inside it).
pub fn new_user(username: &str) -> NewUser {
    NewUser {
        username: username.into(),
        email: Some(format!("{username}@example.com")),
        name: Some(format!("{username} Example")),
        password_hash: "$argon2id$placeholder".into(),
        is_admin: false,
        email_verified: true,
        ..NewUser::default()
    }
}

/// Creates a user; returns its id.
pub async fn user(store: &Store, username: &str) -> String {
    store
        .insert_user(&new_user(username), false, NOW)
        .await
        .unwrap()
        .expect("the username is free")
}

/// What registering a confidential client `client_id` takes.
pub fn new_client(client_id: &str) -> NewClient {
    NewClient {
        client_id: client_id.into(),
        name: format!("{client_id} app"),
        secret_hash: Some(hash()),
        redirect_uris: vec![format!("https://{client_id}.example/cb")],
        post_logout_redirect_uris: vec![format!("https://{client_id}.example/")],
        grant_types: vec!["authorization_code".into(), "refresh_token".into()],
        scopes: vec!["openid".into(), "offline_access".into()],
        require_consent: true,
        require_mfa: false,
        is_admin: false,
        lifetimes: Default::default(),
        apis: vec![],
        allowed_groups: vec![],
        introspects: vec![],
        roles: Default::default(),
        backchannel_logout_uri: None,
        backchannel_logout_session_required: false,
    }
}

/// Registers a client; returns its id.
pub async fn client(store: &Store, client_id: &str) -> String {
    let created = store
        .insert_client(&new_client(client_id), NOW)
        .await
        .unwrap();
    assert!(created, "the client id is free");
    client_id.to_string()
}

/// A code for `user_id` at `client_id`, redeemable until `expires_at`.
pub fn new_code(client_id: &str, user_id: &str, expires_at: i64) -> NewCode {
    NewCode {
        client_id: client_id.into(),
        user_id: user_id.into(),
        sid: id(),
        redirect_uri: format!("https://{client_id}.example/cb"),
        scope: "openid offline_access".into(),
        nonce: Some(gatehouse::crypto::random_token()),
        code_challenge: Some(hash()),
        auth_time: NOW - 5,
        amr: "pwd".into(),
        expires_at,
        grant_id: None,
        resource: Some("https://api.example.test/".into()),
    }
}

/// A grant of `user_id` at `client_id` with a new id, ending at `expires_at`.
pub fn new_grant(client_id: &str, user_id: &str, expires_at: i64) -> NewGrant {
    NewGrant {
        id: id(),
        user_id: Some(user_id.into()),
        client_id: client_id.into(),
        scope: "openid offline_access".into(),
        sid: Some(id()),
        auth_time: Some(NOW - 5),
        amr: "pwd".into(),
        resource: Some("https://api.example.test/".into()),
        expires_at,
    }
}

/// A signed-in user's tokens as a code redemption leaves them.
pub struct Family {
    pub client_id: String,
    pub user_id: String,
    /// The code that was redeemed.
    pub code_hash: String,
    /// The grant its redemption created (lasting a day).
    pub grant_id: String,
    /// The first refresh token's hash (idle for an hour).
    pub refresh_hash: String,
}

/// Issues a code for `user_id` at `client_id` at [`NOW`], valid for a
/// minute; returns its hash.
pub async fn issued(store: &Store, client_id: &str, user_id: &str) -> String {
    let code_hash = hash();
    store
        .create_code(&code_hash, &new_code(client_id, user_id, NOW + 60), NOW)
        .await
        .unwrap();
    code_hash
}

/// A fresh store with a user, a client and a code issued to them:
/// (store, database URL, client id, user id, code hash).
pub async fn store_with_code() -> (Store, String, String, String, String) {
    let (store, url) = fresh_store().await;
    let user_id = user(&store, "alice").await;
    let client_id = client(&store, "webapp").await;
    let code_hash = issued(&store, &client_id, &user_id).await;
    (store, url, client_id, user_id, code_hash)
}

/// Issues a code for `user_id` at `client_id` and redeems it at [`NOW`]
/// with a first refresh token.
pub async fn redeemed(store: &Store, client_id: &str, user_id: &str) -> Family {
    let code_hash = issued(store, client_id, user_id).await;
    let grant = new_grant(client_id, user_id, NOW + 86_400);
    let refresh_hash = hash();
    let redemption = store
        .redeem_code(&code_hash, &grant, Some((&refresh_hash, NOW + 3_600)), NOW)
        .await
        .unwrap();
    assert!(matches!(redemption, Redemption::Redeemed), "{redemption:?}");
    Family {
        client_id: client_id.into(),
        user_id: user_id.into(),
        code_hash,
        grant_id: grant.id,
        refresh_hash,
    }
}

/// A fresh store with one user, one client and one redeemed code.
pub async fn store_with_family() -> (Store, String, Family) {
    let (store, url) = fresh_store().await;
    let user_id = user(&store, "alice").await;
    let client_id = client(&store, "webapp").await;
    let family = redeemed(&store, &client_id, &user_id).await;
    (store, url, family)
}

/// The API identifier the store tests use.
pub const API: &str = "https://api.example.test/";

/// An API with one scope and one role held by `engineering`.
pub fn api(identifier: &str) -> ApiRecord {
    ApiRecord {
        identifier: identifier.into(),
        name: "Example API".into(),
        scopes: vec![ApiScope {
            name: "read".into(),
            description: "Read things".into(),
        }],
        roles: [("reader".to_string(), vec!["engineering".to_string()])].into(),
        access_token_ttl: Some(300),
        signing_alg: "ES256".into(),
    }
}

/// A custom scope releasing the attribute of the same name.
pub fn scope(name: &str) -> ScopeRecord {
    ScopeRecord {
        name: name.into(),
        description: format!("Know your {name}"),
        claims: vec![name.into()],
    }
}
