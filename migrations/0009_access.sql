-- Who may do what, and for which API: standard claims (OpenID Connect Core
-- §5.1), custom attributes, groups, custom scopes, APIs (resource servers,
-- RFC 8707) with their roles, and the clients' access settings.

-- Standard claims beyond name and email, as one JSON object (§5.1), and the
-- user's custom attributes as another. Addresses stored before this
-- migration were set by an administrator or a seed file, who vouched for
-- them: they stay verified.
ALTER TABLE users ADD COLUMN profile TEXT NOT NULL DEFAULT '{}';
ALTER TABLE users ADD COLUMN claims TEXT NOT NULL DEFAULT '{}';
ALTER TABLE users ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0;
UPDATE users SET email_verified = 1 WHERE email IS NOT NULL;

CREATE TABLE user_groups (
    name         TEXT PRIMARY KEY,
    description  TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL
);

CREATE TABLE group_members (
    group_name   TEXT NOT NULL REFERENCES user_groups (name),
    user_id      TEXT NOT NULL REFERENCES users (id),
    PRIMARY KEY (group_name, user_id)
);
CREATE INDEX group_members_by_user ON group_members (user_id);

-- Custom scopes: the user attributes each one releases (JSON list).
CREATE TABLE custom_scopes (
    name         TEXT PRIMARY KEY,
    description  TEXT NOT NULL DEFAULT '',
    claims       TEXT NOT NULL DEFAULT '[]',
    created_at   BIGINT NOT NULL
);

-- APIs: scopes ([{"name","description"}]) and roles ({"role": ["group"]}) as JSON.
CREATE TABLE apis (
    identifier        TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    scopes            TEXT NOT NULL DEFAULT '[]',
    roles             TEXT NOT NULL DEFAULT '{}',
    access_token_ttl  BIGINT,
    signing_alg       TEXT NOT NULL DEFAULT 'RS256',
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);

ALTER TABLE clients ADD COLUMN apis TEXT NOT NULL DEFAULT '[]';
ALTER TABLE clients ADD COLUMN allowed_groups TEXT NOT NULL DEFAULT '[]';
ALTER TABLE clients ADD COLUMN introspects TEXT NOT NULL DEFAULT '[]';
ALTER TABLE clients ADD COLUMN roles TEXT NOT NULL DEFAULT '{}';

-- The API a code and the grant it leads to were issued for (RFC 8707).
ALTER TABLE authorization_codes ADD COLUMN resource TEXT;
ALTER TABLE grants ADD COLUMN resource TEXT;
