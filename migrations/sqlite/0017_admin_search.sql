-- Events by name, newest first (SQLite compares text in byte order).
CREATE INDEX audit_events_event_id ON audit_events (event, id);

-- The admin's user search on SQLite: an FTS5 index of the words of each
-- user's username, name and email, kept in step with `users` by triggers.
-- The unicode61 tokenizer splits on everything but letters and digits and
-- folds case, so alice@example.com is the words alice, example and com.
-- Diacritics are kept, as Postgres's 'simple' configuration keeps them.
--
-- FTS5 rows are keyed by an integer. `users` has none of its own (its rowid
-- may change on VACUUM), so each user gets one here.
CREATE TABLE user_search_rows (
    row      INTEGER PRIMARY KEY,
    user_id  TEXT NOT NULL UNIQUE
);
CREATE VIRTUAL TABLE user_search USING fts5(
    username, name, email,
    tokenize = 'unicode61 remove_diacritics 0'
);

INSERT INTO user_search_rows (user_id) SELECT id FROM users ORDER BY username;
INSERT INTO user_search (rowid, username, name, email)
    SELECT r.row, u.username, u.name, u.email
    FROM users u JOIN user_search_rows r ON r.user_id = u.id;

CREATE TRIGGER user_search_added AFTER INSERT ON users BEGIN
    INSERT INTO user_search_rows (user_id) VALUES (new.id);
    INSERT INTO user_search (rowid, username, name, email)
        VALUES ((SELECT row FROM user_search_rows WHERE user_id = new.id),
                new.username, new.name, new.email);
END;

CREATE TRIGGER user_search_changed AFTER UPDATE OF username, name, email ON users BEGIN
    DELETE FROM user_search
        WHERE rowid = (SELECT row FROM user_search_rows WHERE user_id = old.id);
    INSERT INTO user_search (rowid, username, name, email)
        VALUES ((SELECT row FROM user_search_rows WHERE user_id = new.id),
                new.username, new.name, new.email);
END;

CREATE TRIGGER user_search_removed AFTER DELETE ON users BEGIN
    DELETE FROM user_search
        WHERE rowid = (SELECT row FROM user_search_rows WHERE user_id = old.id);
    DELETE FROM user_search_rows WHERE user_id = old.id;
END;
