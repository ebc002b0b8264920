-- Device cookies (OWASP Authentication Cheat Sheet, "Slow Down Online
-- Guessing Attacks with Device Cookies"): a browser that signed in to an
-- account holds a random value; its SHA-256 hash is kept here with the
-- account it is trusted for (the throttle's account key, a hash of the
-- username). Failures from a trusted browser count against that browser
-- alone, so failures from elsewhere never delay it. One browser may be
-- trusted for several accounts: one row per (value, account).
CREATE TABLE device_cookies (
    token_hash   TEXT NOT NULL,
    account      TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    PRIMARY KEY (token_hash, account)
);
CREATE INDEX device_cookies_by_account ON device_cookies (account);
