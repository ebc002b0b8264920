//! The clients and users every test app starts with, and their secrets.

pub const CONFIDENTIAL: &str = "webapp";
pub const CONFIDENTIAL_SECRET: &str = "webapp-secret-0123456789";
pub const CONFIDENTIAL_REDIRECT: &str = "http://127.0.0.1:9999/callback";
pub const PUBLIC: &str = "spa";
pub const PUBLIC_REDIRECT: &str = "http://localhost:5173/callback";
pub const NO_CONSENT: &str = "trusted";
pub const SERVICE: &str = "service";
pub const SERVICE_SECRET: &str = "service-secret-0123456789";
pub const KIOSK: &str = "kiosk";
pub const KIOSK_SECRET: &str = "kiosk-secret-0123456789";
pub const ALICE_PASSWORD: &str = "correct horse battery staple";
pub const BOB_PASSWORD: &str = "bob's long passphrase";
pub const BOB_TOTP: &str = "JBSWY3DPEHPK3PXP";

const SEED: &str = r#"
[[clients]]
client_id = "webapp"
name = "Web App"
client_secret = "webapp-secret-0123456789"
redirect_uris = ["http://127.0.0.1:9999/callback", "http://127.0.0.1:9999/other"]
post_logout_redirect_uris = ["http://127.0.0.1:9999/"]
grant_types = ["authorization_code", "refresh_token"]
scopes = ["openid", "profile", "email", "offline_access", "api:read"]

[[clients]]
client_id = "spa"
name = "Single Page App"
redirect_uris = ["http://localhost:5173/callback"]
grant_types = ["authorization_code"]
scopes = ["openid", "profile", "email"]

[[clients]]
client_id = "trusted"
name = "Trusted App"
client_secret = "trusted-secret-0123456789"
redirect_uris = ["http://127.0.0.1:9998/cb"]
scopes = ["openid", "profile"]
require_consent = false

[[clients]]
client_id = "secure"
name = "Secure App"
client_secret = "secure-secret-0123456789"
redirect_uris = ["http://127.0.0.1:9996/cb"]
scopes = ["openid"]
require_consent = false
require_mfa = true

[[clients]]
client_id = "service"
name = "Back-end Service"
client_secret = "service-secret-0123456789"
grant_types = ["client_credentials"]
scopes = ["api:read", "api:write"]

[[clients]]
client_id = "automation"
name = "Automation"
client_secret = "automation-secret-0123456789"
grant_types = ["client_credentials"]
scopes = ["api:read"]
admin = true

[[clients]]
client_id = "kiosk"
name = "Kiosk"
client_secret = "kiosk-secret-0123456789"
redirect_uris = ["http://127.0.0.1:9997/cb"]
grant_types = ["authorization_code", "refresh_token"]
scopes = ["openid", "offline_access"]
require_consent = false
access_token_ttl = 120
refresh_token_idle_ttl = 600
refresh_token_absolute_ttl = 1800

[[users]]
username = "alice"
password = "correct horse battery staple"
email = "alice@example.com"
email_verified = true
name = "Alice Example"

[[users]]
username = "bob"
password = "bob's long passphrase"
email = "bob@example.com"
name = "Bob Example"
totp_secret = "JBSWY3DPEHPK3PXP"
"#;

pub const WEBAPP: (&str, &str) = (CONFIDENTIAL, CONFIDENTIAL_SECRET);
/// The seeded admin client, which may call the admin API.
pub const AUTOMATION: (&str, &str) = ("automation", "automation-secret-0123456789");
pub const TRUSTED: (&str, &str) = (NO_CONSENT, "trusted-secret-0123456789");

/// Writes the test seed file to a fresh temporary path.
pub fn write_seed() -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("gh-seed-{}.toml", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, SEED).unwrap();
    path
}
