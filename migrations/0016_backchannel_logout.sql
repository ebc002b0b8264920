-- OpenID Connect Back-Channel Logout 1.0. A client may register the URL
-- to which Gatehouse posts a logout token when a browser session in which
-- it got tokens ends (§2.2), and whether it needs the `sid` claim in it.
ALTER TABLE clients ADD COLUMN backchannel_logout_uri TEXT;
ALTER TABLE clients ADD COLUMN backchannel_logout_session_required INTEGER NOT NULL DEFAULT 0;

-- The outbox carries logout tokens as well as email: `channel` says which
-- deliverer takes a row ('email' or 'backchannel_logout'). A logout row's
-- `recipient` is the client's back-channel URL and `payload` holds what
-- its token says (JSON: client_id, sub, sid); the token is signed when it
-- is sent, so its `iat` and `exp` are fresh on every attempt, and its
-- `jti` is the row's `message_id`. A sent row's payload is erased.
ALTER TABLE outbox ADD COLUMN channel TEXT NOT NULL DEFAULT 'email';
ALTER TABLE outbox ADD COLUMN payload TEXT NOT NULL DEFAULT '';
CREATE INDEX outbox_due_by_channel ON outbox (channel, state, next_attempt_at);

-- Ending a session looks up the grants made in it.
CREATE INDEX grants_sid ON grants (sid);
