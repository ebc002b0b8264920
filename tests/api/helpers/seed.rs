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

/// Groups, a custom scope, APIs and the clients and users that use them,
/// added to the usual seed by [`write_access_seed`].
pub const ACCESS_SEED: &str = r#"
[[groups]]
name = "engineering"
description = "Builds things"

[[groups]]
name = "sales"
description = "Sells things"

[[scopes]]
name = "tenant"
description = "Know which organisation you belong to"
claims = ["tenant"]

[[apis]]
identifier = "https://api.example.test/"
name = "Example API"
scopes = [{ name = "read", description = "Read your projects" }, "write"]
access_token_ttl = 300
signing_alg = "ES256"
[apis.roles]
reader = ["engineering"]
writer = ["sales"]

[[apis]]
identifier = "https://ed.example.test/"
name = "Ed API"
scopes = ["read"]
signing_alg = "EdDSA"

[[apis]]
identifier = "urn:example:other"
name = "Other API"
scopes = ["read"]

[[clients]]
client_id = "portal"
name = "Portal"
client_secret = "portal-secret-0123456789"
redirect_uris = ["http://127.0.0.1:9995/cb"]
grant_types = ["authorization_code", "refresh_token"]
scopes = ["openid", "profile", "email", "phone", "address", "groups", "roles", "tenant", "offline_access"]
require_consent = false
apis = ["https://api.example.test/", "https://ed.example.test/"]
[clients.roles]
editor = ["engineering"]
viewer = ["sales"]

[[clients]]
client_id = "intranet"
name = "Intranet"
client_secret = "intranet-secret-0123456789"
redirect_uris = ["http://127.0.0.1:9994/cb"]
grant_types = ["authorization_code", "refresh_token"]
scopes = ["openid", "profile", "offline_access"]
require_consent = false
allowed_groups = ["engineering"]

[[clients]]
client_id = "gateway"
name = "Gateway"
client_secret = "gateway-secret-0123456789"
grant_types = ["client_credentials"]
scopes = []
introspects = ["https://api.example.test/"]

[[clients]]
client_id = "worker"
name = "Worker"
client_secret = "worker-secret-0123456789"
grant_types = ["client_credentials"]
scopes = ["jobs"]
apis = ["https://api.example.test/", "https://ed.example.test/"]

[[users]]
username = "dana"
password = "dana's long passphrase"
email = "dana@example.com"
name = "Dana Example"
groups = ["engineering", "sales"]
given_name = "Dana"
family_name = "Example"
nickname = "dee"
website = "https://dana.example.com/"
birthdate = "1990-04-01"
zoneinfo = "Europe/Paris"
locale = "fr-FR"
phone_number = "+33 1 23 45 67 89"
phone_number_verified = true
address = { street_address = "1 Rue de la Paix", locality = "Paris", postal_code = "75002", country = "France" }
claims = { tenant = "acme", level = 3 }

[[users]]
username = "erin"
password = "erin's long passphrase"
name = "Erin Example"
groups = ["sales"]
"#;

pub const PORTAL: (&str, &str) = ("portal", "portal-secret-0123456789");
pub const INTRANET: (&str, &str) = ("intranet", "intranet-secret-0123456789");
pub const GATEWAY: (&str, &str) = ("gateway", "gateway-secret-0123456789");
pub const WORKER: (&str, &str) = ("worker", "worker-secret-0123456789");
pub const DANA_PASSWORD: &str = "dana's long passphrase";
pub const ERIN_PASSWORD: &str = "erin's long passphrase";
pub const EXAMPLE_API: &str = "https://api.example.test/";
pub const ED_API: &str = "https://ed.example.test/";

/// Writes the test seed with [`ACCESS_SEED`] added.
pub fn write_access_seed() -> std::path::PathBuf {
    let path = write_seed();
    std::fs::write(&path, format!("{SEED}{ACCESS_SEED}")).unwrap();
    path
}
