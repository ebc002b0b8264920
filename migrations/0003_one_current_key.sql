-- At most one signing key is current: replicas starting together on an
-- empty database cannot both create one.
CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys (state) WHERE state = 'current';
