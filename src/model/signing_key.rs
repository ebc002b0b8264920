//! Signing keys as stored, with their lifecycle state.

/// A signing key as stored.
#[derive(Debug, Clone)]
pub struct KeyRecord {
    /// RFC 7638 thumbprint.
    pub kid: String,
    /// JWS algorithm (`RS256`, `ES256` or `EdDSA`).
    pub alg: String,
    /// PKCS#8 DER of the private key, base64 (standard alphabet).
    pub private_key: String,
    /// Public JWK as JSON text.
    pub public_jwk: String,
    /// `next`, `current` or `retired`.
    pub state: String,
    /// When the key was made.
    pub created_at: i64,
    /// When it stopped signing, if it has.
    pub retired_at: Option<i64>,
}
