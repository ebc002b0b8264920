-- At most one key is current and at most one is next: replicas starting
-- together on an empty database cannot each create their own.
CREATE UNIQUE INDEX signing_keys_one_per_state ON signing_keys (state) WHERE state IN ('current', 'next');
