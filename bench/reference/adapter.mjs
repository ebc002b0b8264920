// An in-memory storage adapter for the reference provider.
//
// oidc-provider's own development adapter keeps everything in an LRU of
// 1,000 entries: under load, sessions, grants and refresh tokens are evicted
// within a second, and refreshes fail with invalid_grant because their token
// is gone, not because of anything the benchmark did. This one keeps every
// entry until it expires (swept once a minute), with the same interface and
// the same grant index, so revocation by grant still works. Being a plain
// Map with no I/O, it is the cheapest storage the reference can have, which
// keeps the comparison on the protocol work.

const store = new Map(); // key -> { payload, expiresAt }
const grants = new Map(); // grantId -> Set of keys
const sessionUids = new Map(); // uid -> session id
const userCodes = new Map(); // user code -> id

const GRANTABLE = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
]);

function live(key) {
  const entry = store.get(key);
  if (!entry) return undefined;
  if (entry.expiresAt <= Date.now()) {
    remove(key);
    return undefined;
  }
  return entry.payload;
}

function remove(key) {
  const entry = store.get(key);
  if (!entry) return;
  store.delete(key);
  const { payload } = entry;
  if (payload.grantId) grants.get(payload.grantId)?.delete(key);
  if (payload.uid && sessionUids.get(payload.uid) === key.slice(key.indexOf(':') + 1)) {
    sessionUids.delete(payload.uid);
  }
  if (payload.userCode) userCodes.delete(payload.userCode);
}

setInterval(() => {
  const now = Date.now();
  for (const [key, entry] of store) {
    if (entry.expiresAt <= now) remove(key);
  }
  for (const [grantId, keys] of grants) {
    if (keys.size === 0) grants.delete(grantId);
  }
}, 60_000).unref();

export default class MapAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    remove(key);
    const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity;
    store.set(key, { payload, expiresAt });
    if (this.model === 'Session' && payload.uid) sessionUids.set(payload.uid, id);
    if (payload.userCode) userCodes.set(payload.userCode, id);
    if (GRANTABLE.has(this.model) && payload.grantId) {
      let keys = grants.get(payload.grantId);
      if (!keys) {
        keys = new Set();
        grants.set(payload.grantId, keys);
      }
      keys.add(key);
    }
  }

  async find(id) {
    return live(this.key(id));
  }

  async findByUid(uid) {
    const id = sessionUids.get(uid);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = userCodes.get(userCode);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const payload = live(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    remove(this.key(id));
  }

  async revokeByGrantId(grantId) {
    const keys = grants.get(grantId);
    if (!keys) return;
    grants.delete(grantId);
    for (const key of keys) remove(key);
  }
}
