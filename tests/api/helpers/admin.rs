//! Administration from a test: an admin API token, and admin users and
//! passkeys made straight in the store.

use super::app::TestApp;
use super::seed::AUTOMATION;
use reqwest::StatusCode;
use serde_json::Value;

impl TestApp {
    /// An admin API token for the seeded admin client.
    pub async fn admin_token(&self) -> String {
        let response = self.client_token(AUTOMATION, "gatehouse:admin").await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_string()
    }

    /// Makes `username` (with `password`) an admin user, straight in the store.
    pub async fn create_admin_user(&self, username: &str, password: &str) -> String {
        let hash = gatehouse::account::password::hash_password(password.to_string())
            .await
            .unwrap();
        let user = gatehouse::model::NewUser {
            username: username.into(),
            email: Some(format!("{username}@example.com")),
            name: Some("Site Admin".into()),
            password_hash: hash,
            is_admin: true,
            email_verified: true,
            ..Default::default()
        };
        use gatehouse::clock::Clock;
        self.provider
            .store
            .insert_user(&user, false, self.clock.now())
            .await
            .unwrap()
            .unwrap()
    }

    /// Gives `username` a passkey named `name`, straight in the store,
    /// and returns its id. Registering a real one takes an authenticator;
    /// listing and removing never read the credential, so `{}` stands in.
    pub async fn add_passkey(&self, username: &str, name: &str) -> String {
        use gatehouse::clock::Clock;
        let store = &self.provider.store;
        let user = store.user_by_username(username).await.unwrap().unwrap();
        store
            .ensure_passkey_handle(&user.id, &uuid::Uuid::new_v4().to_string())
            .await
            .unwrap();
        let id = uuid::Uuid::new_v4().to_string();
        let added = store
            .add_passkey(
                &gatehouse::store::NewPasskey {
                    id: &id,
                    user_id: &user.id,
                    credential_id: &format!("credential-{id}"),
                    name,
                    credential: "{}",
                    sign_count: 0,
                    created_at: self.clock.now(),
                },
                None,
            )
            .await
            .unwrap();
        assert!(added, "the credential id is new");
        id
    }
}
