-- Upstream identity providers: another OpenID Connect provider found by
-- discovery, or a plain OAuth 2.0 server with a userinfo URL. `claims` is
-- the claim mapping (JSON: local field -> upstream claim or JSON path),
-- `group_map` which upstream groups stand for which local groups (JSON).
-- `client_secret` is what Gatehouse sends to the upstream's token
-- endpoint, so it is kept as given; no screen or API reads it back.
CREATE TABLE upstreams (
    id                      TEXT PRIMARY KEY,
    kind                    TEXT NOT NULL,
    name                    TEXT NOT NULL,
    icon                    TEXT,
    issuer                  TEXT,
    authorization_endpoint  TEXT,
    token_endpoint          TEXT,
    userinfo_endpoint       TEXT,
    client_id               TEXT NOT NULL,
    client_secret           TEXT NOT NULL,
    scopes                  TEXT NOT NULL,
    jit                     INTEGER NOT NULL,
    link_by_verified_email  INTEGER NOT NULL,
    mfa                     INTEGER NOT NULL,
    sign_out_upstream       INTEGER NOT NULL,
    enabled                 INTEGER NOT NULL,
    claims                  TEXT NOT NULL,
    group_map               TEXT NOT NULL,
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL
);

-- Which upstream account (the upstream's subject) stands for which local
-- user. One upstream account links to one local user; a local user may
-- link several upstreams, one account each.
CREATE TABLE upstream_links (
    upstream_id   TEXT NOT NULL,
    subject       TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    email         TEXT,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT,
    PRIMARY KEY (upstream_id, subject)
);
CREATE INDEX upstream_links_by_user ON upstream_links (user_id);
-- Linking by a verified address looks users up by it, regardless of case.
CREATE INDEX users_by_lower_email ON users (LOWER(email));
CREATE UNIQUE INDEX upstream_links_one_per_user ON upstream_links (upstream_id, user_id);

-- A trip to an upstream in progress (a sign-in, a link from the account
-- page, or a sign-out there), by the hash of the `state` sent with it.
-- `browser_hash` binds it to the browser that left, `nonce` and
-- `code_verifier` (PKCE) to the answer that may come back. A trip that
-- asked for a fresh sign-in there (`prompt=login`, `max_age`) keeps the
-- earliest `auth_time` it accepts, and whether the ID token must carry one
-- (it must when `max_age` was sent). Deleted as the browser comes back, so
-- each state answers once.
CREATE TABLE upstream_trips (
    state_hash     TEXT PRIMARY KEY,
    upstream_id    TEXT NOT NULL,
    purpose        TEXT NOT NULL,
    browser_hash   TEXT NOT NULL,
    user_id        TEXT,
    request_id     TEXT,
    then_page      TEXT,
    nonce          TEXT NOT NULL,
    code_verifier  TEXT NOT NULL,
    auth_after     BIGINT,
    auth_time_required INTEGER NOT NULL DEFAULT 0,
    expires_at     BIGINT NOT NULL
);
CREATE INDEX upstream_trips_by_expiry ON upstream_trips (expires_at);

-- A session opened through an upstream remembers which one (and, for an
-- upstream Gatehouse signs out of too, the ID token to hint with); so does
-- a second-factor challenge opened by one, with the first factor's `amr`.
ALTER TABLE browser_sessions ADD COLUMN upstream_id TEXT;
ALTER TABLE browser_sessions ADD COLUMN upstream_id_token TEXT;
ALTER TABLE mfa_challenges ADD COLUMN first_amr TEXT;
ALTER TABLE mfa_challenges ADD COLUMN upstream_id TEXT;
ALTER TABLE mfa_challenges ADD COLUMN upstream_id_token TEXT;
