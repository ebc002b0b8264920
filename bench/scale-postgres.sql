-- The bulk rows of bench/scale, for Postgres: the same rows as
-- bench/scale-sqlite.sql (read its header), one INSERT … SELECT over
-- generate_series a table. bench/scale runs it in one transaction after
-- creating the temporary table p (n, e, now, hash) and the clients
-- scale-app-1 … scale-app-9.

INSERT INTO users (id, username, email, name, password_hash, is_admin, disabled, created_at,
                   updated_at, email_verified)
SELECT lpad(to_hex(i), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(i), 12, '0'),
       'user' || lpad(i::text, 7, '0'), 'user' || lpad(i::text, 7, '0') || '@example.org',
       CASE WHEN i % 5000 = 0 THEN 'Quixote ' || i ELSE 'Scale User ' || i END,
       p.hash, 0, 0, p.now - 400 * 86400 + i % (300 * 86400), p.now - i % (90 * 86400), 1
FROM p, generate_series(1::bigint, p.n) AS i;

-- Then the expired rows, before the live ones (see bench/scale-sqlite.sql).
INSERT INTO grants (id, user_id, client_id, scope, sid, auth_time, amr, created_at, expires_at)
SELECT lpad(to_hex(x), 8, '0') || '-0002-4000-9000-' || lpad(to_hex(x), 12, '0'),
       lpad(to_hex(x % p.n + 1), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(x % p.n + 1), 12, '0'),
       CASE x % 10 WHEN 0 THEN 'bench-web' ELSE 'scale-app-' || (x % 10) END,
       'openid profile email offline_access', NULL,
       p.now - 95 * 86400 + (x * 7919) % (30 * 86400), 'pwd',
       p.now - 95 * 86400 + (x * 7919) % (30 * 86400),
       p.now - 65 * 86400 + (x * 7919) % (30 * 86400)
FROM p, generate_series(1::bigint, p.e * 2 / 5) AS x;

INSERT INTO refresh_tokens (token_hash, grant_id, created_at, expires_at)
SELECT lpad(to_hex(x), 11, '0') || md5('r' || x),
       lpad(to_hex(x), 8, '0') || '-0002-4000-9000-' || lpad(to_hex(x), 12, '0'),
       p.now - 94 * 86400 + (x * 7919) % (30 * 86400),
       p.now - 80 * 86400 + (x * 7919) % (30 * 86400)
FROM p, generate_series(1::bigint, p.e * 2 / 5) AS x;

INSERT INTO authorization_codes (code_hash, client_id, user_id, sid, redirect_uri, scope, nonce,
                                 code_challenge, auth_time, amr, created_at, expires_at, used_at)
SELECT lpad(to_hex(x), 11, '0') || md5('c' || x),
       CASE x % 10 WHEN 0 THEN 'bench-web' ELSE 'scale-app-' || (x % 10) END,
       lpad(to_hex(x % p.n + 1), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(x % p.n + 1), 12, '0'),
       md5('s' || x), 'http://127.0.0.1:9999/callback', 'openid profile email offline_access',
       md5('n' || x), md5('p' || x) || lpad(to_hex(x), 10, '0'),
       p.now - 62 * 86400 + (x * 7919) % (60 * 86400), 'pwd',
       p.now - 62 * 86400 + (x * 7919) % (60 * 86400),
       p.now - 62 * 86400 + (x * 7919) % (60 * 86400) + 60,
       p.now - 62 * 86400 + (x * 7919) % (60 * 86400) + 3
FROM p, generate_series(1::bigint, p.e - p.e * 2 / 5 * 2) AS x;

INSERT INTO grants (id, user_id, client_id, scope, sid, auth_time, amr, created_at, expires_at)
SELECT lpad(to_hex(g), 8, '0') || '-0001-4000-9000-' || lpad(to_hex(g), 12, '0'),
       lpad(to_hex((g - 1) / 10 + 1), 8, '0') || '-0000-4000-8000-' || lpad(to_hex((g - 1) / 10 + 1), 12, '0'),
       CASE g % 10 WHEN 0 THEN 'bench-web' ELSE 'scale-app-' || (g % 10) END,
       'openid profile email offline_access', md5('g' || g),
       p.now - (g * 7919) % (29 * 86400), 'pwd',
       p.now - (g * 7919) % (29 * 86400),
       p.now - (g * 7919) % (29 * 86400) + 30 * 86400
FROM p, generate_series(1::bigint, p.n * 10) AS g;

INSERT INTO refresh_tokens (token_hash, grant_id, created_at, expires_at)
SELECT lpad(to_hex(p.e + g), 11, '0') || md5('t' || g),
       lpad(to_hex(g), 8, '0') || '-0001-4000-9000-' || lpad(to_hex(g), 12, '0'),
       GREATEST(p.now - (g * 104729) % (13 * 86400), p.now - (g * 7919) % (29 * 86400)),
       LEAST(GREATEST(p.now - (g * 104729) % (13 * 86400), p.now - (g * 7919) % (29 * 86400)) + 14 * 86400,
             p.now - (g * 7919) % (29 * 86400) + 30 * 86400)
FROM p, generate_series(1::bigint, p.n * 10) AS g;

INSERT INTO audit_events (id, at, event, actor, actor_name, user_id, username, client_id, ip, detail)
SELECT lpad(to_hex((at * 1000 + k % 1000) >> 16), 8, '0') || '-' || lpad(to_hex((at * 1000 + k % 1000) & 65535), 4, '0')
         || '-7' || lpad(to_hex(k % 4096), 3, '0') || '-' || to_hex(32768 | (k % 16384)) || '-' || lpad(to_hex(k), 12, '0'),
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
FROM (
  SELECT k, k % 20 AS j,
         p.now - 90 * 86400 + (k * 90 * 86400) / (p.n * 20) AS at,
         lpad(to_hex((k * 2654435761) % p.n + 1), 8, '0') || '-0000-4000-8000-'
           || lpad(to_hex((k * 2654435761) % p.n + 1), 12, '0') AS uid,
         'user' || lpad(((k * 2654435761) % p.n + 1)::text, 7, '0') AS uname,
         CASE (k / 20) % 10 WHEN 0 THEN 'bench-web' ELSE 'scale-app-' || ((k / 20) % 10) END AS cl,
         '198.51.' || ((k / 20) % 256) || '.' || (k % 250 + 1) AS ip
  FROM p, generate_series(1::bigint, p.n * 20) AS k
) AS e;
