-- Failed sign-ins per account (keyed by a hash of the username, so unknown
-- and known names are throttled alike) and per client address; '*' is the
-- account as a whole. Kept in the database so every replica sees them.
CREATE TABLE sign_in_failures (
    account        TEXT NOT NULL,
    source         TEXT NOT NULL,
    failures       BIGINT NOT NULL,
    blocked_until  BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (account, source)
);
