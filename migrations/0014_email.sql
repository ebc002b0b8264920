-- Email. `outbox` holds every message Gatehouse means to send, written in
-- the same transaction as the change that causes it; a sender task delivers
-- it. `state` is 'pending' (waiting, or due at `next_attempt_at`), 'sent'
-- or 'parked' (gave up after too many failures; an admin may retry it).
-- A sender claims a due message by setting `claimed_by` and
-- `claimed_until` with a conditional update, so two replicas never send it
-- at once; a claim that outlives its sender (a crash) lapses and the
-- message is sent again, under the same `message_id`. The bodies of a sent
-- message are erased: they may hold a one-time link.
CREATE TABLE outbox (
    id               TEXT PRIMARY KEY,
    message_id       TEXT NOT NULL UNIQUE,
    kind             TEXT NOT NULL,
    recipient        TEXT NOT NULL,
    subject          TEXT NOT NULL,
    text_body        TEXT NOT NULL,
    html_body        TEXT NOT NULL,
    state            TEXT NOT NULL,
    attempts         INTEGER NOT NULL,
    next_attempt_at  BIGINT NOT NULL,
    claimed_by       TEXT,
    claimed_until    BIGINT,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    sent_at          BIGINT
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);

-- One-time links sent by email, by the SHA-256 of their token:
-- 'verify' (an address), 'reset' (a forgotten password), 'invite' (an
-- invitation). `email` is the address the link was sent to: a link proves
-- only that address, and only while it is still the user's.
CREATE TABLE email_tokens (
    token_hash  TEXT PRIMARY KEY,
    purpose     TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
-- Only the newest link of a purpose works: one row per user and purpose.
CREATE UNIQUE INDEX email_tokens_one_per_purpose ON email_tokens (user_id, purpose);

-- Self-registrations waiting for their address to be verified, by the
-- SHA-256 of the link's token. No account exists until the link is
-- opened, so an unverified sign-up holds no address and signs nobody in.
-- Several may wait for one address; the first link opened creates the
-- account, and the others then find the address taken.
CREATE TABLE registrations (
    token_hash     TEXT PRIMARY KEY,
    email          TEXT NOT NULL,
    name           TEXT,
    password_hash  TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL
);
CREATE INDEX registrations_by_email ON registrations (LOWER(email));
