-- The read cache's shared change counter. Every write that could make a
-- cached answer wrong (a revoked grant or token, a changed or disabled user,
-- a changed or removed client) adds one to `n`; each server polls it and
-- drops its cache when it moves. One row, id 1, written by the first change
-- (before it, the counter reads 0).
CREATE TABLE cache_epoch (
    id  INTEGER PRIMARY KEY,
    n   BIGINT NOT NULL
);

-- Each running server's counter value it has acted on, and until when (unix
-- milliseconds) it may serve from its cache without writing here again, so
-- that a change made elsewhere (the CLI, another replica) can wait until
-- every server that might still hold stale answers has dropped them.
CREATE TABLE cache_replicas (
    replica_id   TEXT PRIMARY KEY,
    seen         BIGINT NOT NULL,
    valid_until  BIGINT NOT NULL
);
