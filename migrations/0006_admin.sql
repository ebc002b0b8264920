-- Administration: the admin flag on clients (only admin clients may obtain
-- the gatehouse:admin scope), passwords that must be changed at the next
-- sign-in, and the audit log.

ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
ALTER TABLE clients ADD COLUMN is_admin INTEGER NOT NULL DEFAULT 0;

-- Events keep the names and ids they had when they happened; no foreign
-- keys, so deleting a user or a client keeps its history.
CREATE TABLE audit_events (
    id          TEXT PRIMARY KEY,
    at          BIGINT NOT NULL,
    event       TEXT NOT NULL,
    actor       TEXT NOT NULL,
    actor_name  TEXT,
    user_id     TEXT,
    username    TEXT,
    client_id   TEXT,
    ip          TEXT,
    detail      TEXT NOT NULL
);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_user ON audit_events (user_id, at);
CREATE INDEX audit_events_client ON audit_events (client_id, at);
CREATE INDEX audit_events_event ON audit_events (event, at);
