-- Each signing algorithm has its own lifecycle: at most one current and one
-- next key per algorithm, so several algorithms sign side by side (ID tokens
-- with one, each API's access tokens with its own) and replicas starting
-- together still cannot each create their own key for an algorithm.
DROP INDEX IF EXISTS signing_keys_one_per_state;
CREATE UNIQUE INDEX signing_keys_one_per_alg_and_state ON signing_keys (alg, state) WHERE state IN ('current', 'next');
