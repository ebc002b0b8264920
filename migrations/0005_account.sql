-- The self-service account: TOTP enrolment waiting for its first code,
-- single-use recovery codes (stored as SHA-256 hashes), and what a person
-- needs to recognise their own browser sessions.

ALTER TABLE users ADD COLUMN totp_pending_secret TEXT;

CREATE TABLE recovery_codes (
    code_hash   TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id);

ALTER TABLE browser_sessions ADD COLUMN user_agent TEXT;
ALTER TABLE browser_sessions ADD COLUMN ip TEXT;
