-- Device codes (RFC 8628 §3.2): a device asked to be authorized and polls
-- the token endpoint while its user approves on another screen. The
-- device code is kept as its SHA-256 only; so is the user code, once
-- normalised (upper case, no dash), so that what a person types is found
-- by hashing it the same way. `status` is 'pending', 'approved', 'denied'
-- or 'redeemed'; approval fills in the user and the browser session
-- (`user_id`, `sid`, `auth_time`, `amr`), and redemption the grant it
-- produced. `interval_secs` is the polling interval, which grows by five
-- seconds each time the device polls too fast (§3.5 `slow_down`), measured
-- from `last_polled_at`.
CREATE TABLE device_codes (
    device_code_hash  TEXT PRIMARY KEY,
    user_code_hash    TEXT NOT NULL UNIQUE,
    client_id         TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    scope             TEXT NOT NULL,
    resource          TEXT,
    status            TEXT NOT NULL,
    interval_secs     BIGINT NOT NULL,
    last_polled_at    BIGINT,
    user_id           TEXT REFERENCES users (id) ON DELETE CASCADE,
    sid               TEXT,
    auth_time         BIGINT,
    amr               TEXT,
    grant_id          TEXT,
    created_at        BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL
);
CREATE INDEX device_codes_expiry ON device_codes (expires_at);
