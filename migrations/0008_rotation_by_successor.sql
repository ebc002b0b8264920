-- Refresh-token rotation in one statement: a successor names the token it
-- replaced, and the unique index lets each token have one successor only.
-- A token is rotated out when it has a successor (or, for rows rotated
-- before this migration, when used_at is set).
ALTER TABLE refresh_tokens ADD COLUMN rotated_from TEXT;
CREATE UNIQUE INDEX refresh_tokens_rotated_from ON refresh_tokens (rotated_from);
