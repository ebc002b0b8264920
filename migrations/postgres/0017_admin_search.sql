-- Events by name, newest first. In byte order whatever the database's
-- collation, so that a prefix's bounds (`sign_in.` to `sign_in/`) select
-- exactly the names starting with it.
CREATE INDEX audit_events_event_id ON audit_events (event COLLATE "C", id);

-- The admin's user search on Postgres: a GIN index of the words of each
-- user's username, name and email ('simple' configuration: lower case, no
-- stemming, no stop words). Everything but letters and digits becomes a
-- space first, so alice@example.com is the words alice, example and com, as
-- SQLite's unicode61 tokenizer splits it. The query repeats this expression
-- exactly (src/store/user_search.rs), which is how Postgres picks the index.
CREATE INDEX users_words ON users USING GIN (
    to_tsvector('simple', regexp_replace(
        username || ' ' || COALESCE(name, '') || ' ' || COALESCE(email, ''),
        '[^[:alnum:]]+', ' ', 'g'))
);
