-- Indexes for the admin's audit log filters: each ends in the id the log is
-- ordered and paged by (time-ordered UUIDv7), so "the newest n events
-- matching" walks one index backwards and stops after n rows. The user
-- filter reads two of them: events by user id, and by the username stored
-- with the event (a deleted user's events keep only that).
CREATE INDEX audit_events_user_id ON audit_events (user_id, id);
CREATE INDEX audit_events_username ON audit_events (username, id);
CREATE INDEX audit_events_client_id ON audit_events (client_id, id);
CREATE INDEX audit_events_at_id ON audit_events (at, id);
DROP INDEX audit_events_user;
DROP INDEX audit_events_client;
DROP INDEX audit_events_event;
DROP INDEX audit_events_at;

-- The index on the event name (compared in byte order for a prefix) and the
-- admin's user search (words of username, name and email) are written for
-- each engine: see migrations/sqlite/ and migrations/postgres/.
