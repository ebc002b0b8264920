-- Token lifecycle: per-client lifetimes, revoked access-token ids, and the
-- signing key states used by rotation.

ALTER TABLE clients ADD COLUMN access_token_ttl BIGINT;
ALTER TABLE clients ADD COLUMN refresh_token_idle_ttl BIGINT;
ALTER TABLE clients ADD COLUMN refresh_token_absolute_ttl BIGINT;

-- Access tokens are JWTs and are not stored; a revoked one is remembered by
-- its jti until it would have expired anyway.
CREATE TABLE revoked_access_tokens (
    jti         TEXT PRIMARY KEY,
    expires_at  BIGINT NOT NULL
);

CREATE INDEX signing_keys_state ON signing_keys (state);
