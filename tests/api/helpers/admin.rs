//! Administration from a test: an admin API token and admin users made
//! straight in the store.

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
}
