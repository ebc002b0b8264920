-- Passkeys (WebAuthn Level 3). Each user who registers one gets a random
-- user handle (§14.6.1: not the username, nothing that identifies them to
-- anyone else); authenticators store it beside the credential and hand it
-- back in a discoverable sign-in.
CREATE TABLE passkey_users (
    user_id  TEXT PRIMARY KEY,
    handle   TEXT NOT NULL UNIQUE
);

-- One row per registered credential. `credential` is the verified public
-- key with its flags (JSON); `credential_id` is the authenticator's id for
-- it (base64url), unique across all users; `sign_count` the signature
-- counter of its last use, which only a conditional UPDATE raises (§6.1.1:
-- a counter that does not grow shows a cloned authenticator).
CREATE TABLE passkeys (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL,
    credential_id  TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    credential     TEXT NOT NULL,
    sign_count     BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL,
    last_used_at   BIGINT
);
CREATE INDEX passkeys_by_user ON passkeys (user_id);

-- A ceremony in progress: the challenge sent to the browser and what must
-- come back, by the hash of the browser's cookie value and the challenge. Kept in the
-- database so that any replica can finish it, and deleted as it is
-- finished, so each challenge answers once.
CREATE TABLE webauthn_ceremonies (
    id_hash     TEXT PRIMARY KEY,
    purpose     TEXT NOT NULL,
    user_id     TEXT,
    state       TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX webauthn_ceremonies_by_expiry ON webauthn_ceremonies (expires_at);
