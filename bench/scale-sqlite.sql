-- The bulk rows of bench/scale, for SQLite (bench/scale-postgres.sql makes
-- the same rows on Postgres). bench/scale runs it in one transaction on a
-- database that the server has migrated and seeded (bench/seed.toml), after
-- creating the temporary table p (n: users, e: expired rows, now: unix
-- seconds, hash: the seeded user's argon2 password hash, which every bulk
-- user shares so that any of them can sign in with the seed's password)
-- and the clients scale-app-1 … scale-app-9.
--
-- Keys count up, so that each insert appends to its index instead of
-- landing on a random page: a build of a million users takes minutes. They
-- have the length and shape of the server's own (UUIDs, 43-character
-- SHA-256 hashes in base64url), and audit event ids are UUIDv7 ordered by
-- `at` as the server's are.

-- The users: one in 5,000 has the rare word "Quixote" in their name; every
-- address is at example.org.
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < (SELECT n FROM p))
INSERT INTO users (id, username, email, name, password_hash, is_admin, disabled, created_at,
                   updated_at, email_verified)
SELECT printf('%08x-0000-4000-8000-%012x', i, i), printf('user%07d', i), printf('user%07d@example.org', i),
       CASE WHEN i % 5000 = 0 THEN printf('Quixote %d', i) ELSE printf('Scale User %d', i) END,
       p.hash, 0, 0, p.now - 400 * 86400 + i % (300 * 86400), p.now - i % (90 * 86400), 1
FROM s, p;

-- Then the expired rows, before the live ones: they are older, as in a
-- database that has been running for months. Two fifths are token families
-- past their absolute lifetime (30 days) with a refresh token past its idle
-- lifetime (14 days), the rest authorization codes past their day of grace.
WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < (SELECT e * 2 / 5 FROM p))
INSERT INTO grants (id, user_id, client_id, scope, sid, auth_time, amr, created_at, expires_at)
SELECT printf('%08x-0002-4000-9000-%012x', x, x),
       printf('%08x-0000-4000-8000-%012x', x % p.n + 1, x % p.n + 1),
       CASE x % 10 WHEN 0 THEN 'bench-web' ELSE 'scale-app-' || (x % 10) END,
       'openid profile email offline_access', NULL,
       p.now - 95 * 86400 + (x * 7919) % (30 * 86400), 'pwd',
       p.now - 95 * 86400 + (x * 7919) % (30 * 86400),
       p.now - 65 * 86400 + (x * 7919) % (30 * 86400)
FROM s, p;

WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < (SELECT e * 2 / 5 FROM p))
INSERT INTO refresh_tokens (token_hash, grant_id, created_at, expires_at)
SELECT printf('%011x', x) || lower(hex(randomblob(16))),
       printf('%08x-0002-4000-9000-%012x', x, x),
       p.now - 94 * 86400 + (x * 7919) % (30 * 86400),
       p.now - 80 * 86400 + (x * 7919) % (30 * 86400)
FROM s, p;

WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < (SELECT e - e * 2 / 5 * 2 FROM p))
INSERT INTO authorization_codes (code_hash, client_id, user_id, sid, redirect_uri, scope, nonce,
                                 code_challenge, auth_time, amr, created_at, expires_at, used_at)
SELECT printf('%011x', x) || lower(hex(randomblob(16))),
       CASE x % 10 WHEN 0 THEN 'bench-web' ELSE 'scale-app-' || (x % 10) END,
       printf('%08x-0000-4000-8000-%012x', x % p.n + 1, x % p.n + 1),
       lower(hex(randomblob(16))), 'http://127.0.0.1:9999/callback', 'openid profile email offline_access',
       lower(hex(randomblob(16))), lower(hex(randomblob(21))),
       p.now - 62 * 86400 + (x * 7919) % (60 * 86400), 'pwd',
       p.now - 62 * 86400 + (x * 7919) % (60 * 86400),
       p.now - 62 * 86400 + (x * 7919) % (60 * 86400) + 60,
       p.now - 62 * 86400 + (x * 7919) % (60 * 86400) + 3
FROM s, p;

-- Ten live token families a user, each with its live refresh token: a
-- family began in the last 29 days and lasts 30; its token was rotated in
-- the last 13 days and is good for 14 (within the family's lifetime).
WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < (SELECT n * 10 FROM p))
INSERT INTO grants (id, user_id, client_id, scope, sid, auth_time, amr, created_at, expires_at)
SELECT printf('%08x-0001-4000-9000-%012x', g, g),
       printf('%08x-0000-4000-8000-%012x', (g - 1) / 10 + 1, (g - 1) / 10 + 1),
       CASE g % 10 WHEN 0 THEN 'bench-web' ELSE 'scale-app-' || (g % 10) END,
       'openid profile email offline_access', lower(hex(randomblob(16))),
       p.now - (g * 7919) % (29 * 86400), 'pwd',
       p.now - (g * 7919) % (29 * 86400),
       p.now - (g * 7919) % (29 * 86400) + 30 * 86400
FROM s, p;

WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < (SELECT n * 10 FROM p))
INSERT INTO refresh_tokens (token_hash, grant_id, created_at, expires_at)
SELECT printf('%011x', p.e + g) || lower(hex(randomblob(16))),
       printf('%08x-0001-4000-9000-%012x', g, g),
       max(p.now - (g * 104729) % (13 * 86400), p.now - (g * 7919) % (29 * 86400)),
       min(max(p.now - (g * 104729) % (13 * 86400), p.now - (g * 7919) % (29 * 86400)) + 14 * 86400,
           p.now - (g * 7919) % (29 * 86400) + 30 * 86400)
FROM s, p;

-- Twenty audit events a user over the last 90 days, in time order, each
-- for a user picked by a multiplicative hash: mostly token refreshes and
-- issues on the token path (user id only, as the server records them),
-- sign-ins, failed sign-ins (username only), consents, sign-outs, second
-- factors, password changes and revocations, by ten clients.
WITH RECURSIVE s(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM s WHERE k < (SELECT n * 20 FROM p)),
e AS (
  SELECT k, k % 20 AS j,
         p.now - 90 * 86400 + (k * 90 * 86400) / (p.n * 20) AS at,
         printf('%08x-0000-4000-8000-%012x', (k * 2654435761) % p.n + 1, (k * 2654435761) % p.n + 1) AS uid,
         printf('user%07d', (k * 2654435761) % p.n + 1) AS uname,
         CASE (k / 20) % 10 WHEN 0 THEN 'bench-web' ELSE 'scale-app-' || ((k / 20) % 10) END AS cl,
         printf('198.51.%d.%d', (k / 20) % 256, k % 250 + 1) AS ip
  FROM s, p
)
INSERT INTO audit_events (id, at, event, actor, actor_name, user_id, username, client_id, ip, detail)
SELECT printf('%08x-%04x-7%03x-%04x-%012x', (at * 1000 + k % 1000) >> 16, (at * 1000 + k % 1000) & 65535,
              k % 4096, 32768 | (k % 16384), k),
       at,
       CASE WHEN j < 9 THEN 'token.refreshed' WHEN j < 12 THEN 'token.issued'
            WHEN j < 14 THEN 'sign_in.success' WHEN j = 14 THEN 'sign_in.failure'
            WHEN j = 15 THEN 'consent.given' WHEN j = 16 THEN 'session.ended'
            WHEN j = 17 THEN 'mfa.success' WHEN j = 18 THEN 'password.changed'
            ELSE 'token.revoked' END,
       CASE WHEN j = 11 THEN 'client:bench-service' WHEN j < 12 OR j = 19 THEN 'client:' || cl
            WHEN j = 14 THEN 'anonymous' ELSE 'user:' || uid END,
       CASE WHEN j = 11 THEN 'bench-service' WHEN j < 12 OR j = 19 THEN cl
            WHEN j = 14 THEN NULL ELSE uname END,
       CASE WHEN j = 11 OR j = 14 THEN NULL ELSE uid END,
       CASE WHEN j < 12 OR j = 19 THEN NULL ELSE uname END,
       CASE WHEN j = 11 THEN 'bench-service' WHEN j < 12 OR j = 15 OR j = 19 THEN cl ELSE NULL END,
       ip,
       CASE WHEN j < 9 THEN 'grant_type=refresh_token scope=openid profile email offline_access'
            WHEN j < 11 THEN 'grant_type=authorization_code scope=openid profile email offline_access'
            WHEN j = 11 THEN 'grant_type=client_credentials scope=api:read'
            WHEN j < 14 THEN 'method=password'
            WHEN j = 14 THEN 'reason=wrong_password'
            WHEN j = 15 THEN 'scope=openid profile email'
            WHEN j = 16 THEN 'reason=signed_out'
            WHEN j = 17 THEN 'method=totp'
            WHEN j = 18 THEN ''
            ELSE 'token_type_hint=refresh_token' END
FROM e;
