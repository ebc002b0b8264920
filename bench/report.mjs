// Turns the records bench/run collected (one JSON object a line) into the
// Markdown report: the machine, the RS256 floor, start-up and idle memory,
// one row per workload and provider, and the sign-in storm.
//
// Usage: node report.mjs RECORDS.jsonl > report.md

import fs from 'node:fs';

const SIDES = [
  ['gatehouse-sqlite', 'Gatehouse, SQLite'],
  ['gatehouse-postgres', 'Gatehouse, Postgres'],
  ['reference', 'oidc-provider'],
];
const SIDE_LABEL = Object.fromEntries(SIDES);

// What each workload costs each side, so a ratio can be read against the work
// behind it (RS256 signatures are the expensive part of a token response;
// the _es256 and _eddsa workloads sign their access tokens with the cheaper
// ES256 and EdDSA for an API).
const WORKLOADS = [
  ['discovery', 'discovery GET', 'req/s'],
  ['jwks', 'JWKS GET', 'req/s'],
  ['client_credentials', 'client_credentials, RS256 JWT', 'req/s'],
  ['introspection', 'introspection of a valid access token', 'req/s'],
  ['userinfo', 'userinfo', 'req/s'],
  ['refresh', 'refresh-token rotation', 'req/s'],
  ['refresh_es256', 'refresh-token rotation, ES256 access token (API)', 'req/s'],
  ['refresh_eddsa', 'refresh-token rotation, EdDSA access token (API)', 'req/s'],
  ['session_flow', 'code flow with a session: authorize → code → token', 'flows/s'],
  ['session_flow_es256', 'code flow with a session, ES256 access token (API)', 'flows/s'],
  ['session_flow_eddsa', 'code flow with a session, EdDSA access token (API)', 'flows/s'],
  ['signin', 'password sign-in (argon2), whole flow to tokens', 'sign-ins/s'],
];

const records = fs
  .readFileSync(process.argv[2], 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((line) => JSON.parse(line));

const find = (pred) => records.find(pred);
const mb = (kb) => (kb == null ? '—' : (kb / 1024).toFixed(1));
const ms = (v) => (v == null ? '—' : v < 10 ? v.toFixed(2) : v.toFixed(1));
const rate = (v) => (v == null ? '—' : v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(1));
const peak = (m) => (m.rssStart == null ? mb(m.rss) : `${mb(m.rss)} (${mb(m.rssStart)})`);
const cpu = (m) =>
  m.cores == null
    ? '—'
    : `${m.cores.toFixed(2)}${m.dbCores == null ? '' : ` + ${m.dbCores.toFixed(2)} db`}`;
// Cores used by anything but the server, its database and the load
// generator: other work on the machine, which disturbs the figures.
const otherCores = (m) =>
  m.busyCores == null || m.cores == null || m.loadgenCores == null
    ? null
    : Math.max(0, m.busyCores - m.cores - (m.dbCores ?? 0) - m.loadgenCores);
const showOther = (o) => (o == null ? '—' : o >= settings.max_other ? `**${o.toFixed(2)}**` : o.toFixed(2));
const other = (m) => showOther(otherCores(m));
const ratio = (a, b) => (a == null || !b ? '—' : `${(a / b).toFixed(2)}×`);

// One shape for wrk and driver results.
function normalise(rec) {
  if (!rec) return null;
  const d = rec.data;
  if (rec.type === 'wrk' || rec.type === 'probe') {
    const seconds = d.duration_us / 1e6;
    const errors = d.errors_status + d.errors_connect + d.errors_read + d.errors_write + d.errors_timeout;
    return {
      rate: d.requests / seconds,
      p50: d.p50_us / 1000,
      p99: d.p99_us / 1000,
      errors,
      seconds,
      rss: rec.rss_kb,
      rssStart: rec.rss_start_kb,
      cores: rec.cpu_s != null ? rec.cpu_s / seconds : null,
      dbCores: rec.db_cpu_s != null ? rec.db_cpu_s / seconds : null,
      busyCores: rec.busy_s != null ? rec.busy_s / seconds : null,
      loadgenCores: rec.loadgen_cpu_s != null ? rec.loadgen_cpu_s / seconds : null,
    };
  }
  return {
    rate: d.rate,
    p50: d.p50_ms,
    p99: d.p99_ms,
    errors: d.errors,
    firstError: d.first_error,
    seconds: d.seconds,
    rss: rec.rss_kb,
    rssStart: rec.rss_start_kb,
    cores: rec.cpu_s != null ? rec.cpu_s / d.seconds : null,
    dbCores: rec.db_cpu_s != null ? rec.db_cpu_s / d.seconds : null,
    busyCores: rec.busy_s != null ? rec.busy_s / d.seconds : null,
    loadgenCores: rec.loadgen_cpu_s != null ? rec.loadgen_cpu_s / d.seconds : null,
  };
}

const out = [];
const machine = find((r) => r.type === 'machine');
const settings = find((r) => r.type === 'settings');
const floor = find((r) => r.type === 'floor');
const load = find((r) => r.type === 'load');

out.push(`Run ${machine.date}, ${settings.duration} s per workload, wrk ${settings.threads} threads × ${settings.connections} connections over loopback; flows driven by bench/driver.mjs, ${settings.flow_concurrency} at a time.`);
out.push('');
out.push('**Machine**');
out.push('');
out.push(`- ${machine.nproc} cores (\`nproc\`), ${machine.cpu}; ${machine.ram}; Linux ${machine.kernel}`);
out.push(`- Gatehouse ${machine.gatehouse} (commit ${machine.commit}), ${machine.rustc}`);
out.push(`- oidc-provider ${machine.oidc_provider} on Node.js ${machine.node}; ${machine.wrk}; ${machine.openssl}; PostgreSQL ${machine.postgres}`);
if (load) out.push(`- load average (1, 5, 15 min) before the run: ${load.start}`);
out.push('');

out.push(`**Throughput and latency** (latency per request for wrk workloads, per whole flow for the flows; peak RSS is the server\'s VmHWM during the workload, with its RSS at the start in brackets; server CPU is its CPU time over the wall time, in cores, plus the Postgres server\'s for Gatehouse on Postgres; load gen is wrk\'s or the driver\'s; other is what anything else on the machine used, in bold from ${settings.max_other} core, where it disturbed the figures even after ${settings.retries} more tries)`);
out.push('');
out.push('| workload | provider | rate | p50 ms | p99 ms | peak RSS MB | server CPU | load gen | other | errors | rate ÷ reference |');
out.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const [key, label, unit] of WORKLOADS) {
  const ref = normalise(find((r) => (r.type === 'wrk' || r.type === 'flows') && r.side === 'reference' && r.workload === key));
  for (const [side, sideLabel] of SIDES) {
    const rec = find((r) => (r.type === 'wrk' || r.type === 'flows') && r.side === side && r.workload === key);
    const m = normalise(rec);
    if (!m) continue;
    out.push(
      `| ${label} | ${sideLabel} | ${rate(m.rate)} ${unit} | ${ms(m.p50)} | ${ms(m.p99)} | ${peak(m)} | ${cpu(m)} | ${m.loadgenCores == null ? '—' : m.loadgenCores.toFixed(2)} | ${other(m)} | ${m.errors}${m.firstError ? ` (${m.firstError.slice(0, 80)})` : ''} | ${side === 'reference' ? '1.00×' : ratio(m.rate, ref?.rate)} |`,
    );
  }
}
out.push('');

out.push('**Start-up and idle memory** (time from spawning the process to its first 200 on discovery; idle RSS one second after that)');
out.push('');
out.push('| provider | first start, empty database | restart, existing database | idle RSS MB |');
out.push('| --- | ---: | ---: | ---: |');
for (const [side, sideLabel] of SIDES) {
  const s = find((r) => r.type === 'startup' && r.side === side);
  if (!s) continue;
  out.push(`| ${sideLabel} | ${ms(s.first_ms)} ms | ${s.restart_ms == null ? '— (state is in memory)' : `${ms(s.restart_ms)} ms`} | ${mb(s.idle_rss_kb)} |`);
}
out.push('');

out.push('**The RS256 floor**');
out.push('');
if (floor) {
  out.push(`\`openssl speed -seconds 3 rsa2048\`: ${rate(floor.sign_per_s)} signatures/s on one core (${(1000 / floor.sign_per_s).toFixed(3)} ms each), ${rate(floor.verify_per_s)} verifications/s.`);
  out.push('');
  out.push('| provider | client_credentials | server CPU | floor on that CPU (1 signature a token) | share of the floor |');
  out.push('| --- | ---: | ---: | ---: | ---: |');
  for (const [side, sideLabel] of SIDES) {
    const m = normalise(find((r) => r.type === 'wrk' && r.side === side && r.workload === 'client_credentials'));
    if (!m || m.cores == null) continue;
    const ceiling = floor.sign_per_s * m.cores;
    out.push(`| ${sideLabel} | ${rate(m.rate)} req/s | ${m.cores.toFixed(2)} cores${m.dbCores == null ? '' : ` (+ ${m.dbCores.toFixed(2)} db)`} | ${rate(ceiling)} req/s | ${((100 * m.rate) / ceiling).toFixed(0)}% |`);
  }
  out.push('');
}

const stormSides = SIDES.filter(([side]) => find((r) => r.type === 'storm' && r.side === side));
if (stormSides.length) {
  out.push(`**Under a storm of password sign-ins** (${settings.storm_concurrency} sign-ins at a time, while wrk probes with ${settings.probe_connections} connections; baseline: the same probe just before, without the storm)`);
  out.push('');
  out.push('| provider | probe | baseline p50 / p99 ms | storm p50 / p99 ms | baseline req/s | storm req/s | sign-ins/s during the storm | peak RSS MB | other |');
  out.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const [side, sideLabel] of stormSides) {
    const storm = normalise(find((r) => r.type === 'storm' && r.side === side));
    const disturbance = Math.max(
      otherCores(storm) ?? 0,
      ...records
        .filter((r) => r.type === 'probe' && r.side === side && r.phase === 'baseline')
        .map((r) => otherCores(normalise(r)) ?? 0),
    );
    for (const probe of ['jwks', 'client_credentials']) {
      const base = normalise(find((r) => r.type === 'probe' && r.side === side && r.probe === probe && r.phase === 'baseline'));
      const during = normalise(find((r) => r.type === 'probe' && r.side === side && r.probe === probe && r.phase === 'storm'));
      if (!base || !during) continue;
      const errors = base.errors + during.errors;
      out.push(
        `| ${sideLabel} | ${probe === 'jwks' ? 'JWKS GET' : 'client_credentials'}${errors ? ` (${errors} errors)` : ''} | ${ms(base.p50)} / ${ms(base.p99)} | ${ms(during.p50)} / ${ms(during.p99)} | ${rate(base.rate)} | ${rate(during.rate)} | ${rate(storm.rate)}${storm.errors ? ` (${storm.errors} errors)` : ''} | ${peak(storm)} | ${showOther(disturbance)} |`,
      );
    }
  }
  out.push('');
}

out.push('**What each side does per request**');
out.push('');
out.push('- Both sides sign with RS256 (RSA-2048), except the access tokens of the ES256 and EdDSA rows, and verify argon2id passwords with m=19456 KiB, t=2, p=1. Gatehouse serves on two actix workers (one a core); argon2 (one computation fewer than the cores at most) and the signatures of user tokens run on tokio\'s blocking threads at a lower priority, so they yield to request handling (client_credentials signs on the worker, where nothing waits for the database); oidc-provider is one Node.js process whose JavaScript runs on one thread while its RSA signatures (WebCrypto, through jose) and argon2 run on libuv\'s pool of 4 threads, so both sides can use both cores. The reference keeps its state in an in-memory Map (bench/reference/adapter.mjs) where Gatehouse writes to its database.');
out.push('- client_credentials: one signature on each side (an RFC 9068 JWT; the reference through resource indicators with `accessTokenFormat: \'jwt\'`).');
out.push('- Introspection: Gatehouse verifies its JWT access token (a token whose signature already verified is remembered by the SHA-256 of its bytes) and checks its grant, the deny-list and the client through its read cache, which every revocation or change empties on every server before it returns (README, "Several replicas"); the reference looks up its opaque access token in its Map (it cannot introspect its own JWTs). Userinfo: the same tokens.');
out.push('- Refresh, code flow, sign-in token responses without an API: Gatehouse signs two JWTs (access token and ID token), the reference one (ID token; its user access tokens are opaque).');
out.push('- The ES256 and EdDSA (Ed25519) rows: the code flow asks for a token for an API (`resource`, RFC 8707, with its scope `api:read`) that signs its access tokens with that algorithm, and the refresh-token families come from such flows (the refresh requests name no resource; the grant keeps its API). Both sides then sign two JWTs: the access token for the API with ES256 or EdDSA and the RS256 ID token. The reference\'s ID token then also carries the profile and email claims, as Gatehouse\'s always does (with an opaque access token it leaves them to userinfo). bench/driver.mjs checks the algorithm of every such access token, and the audience of those it gets before a workload.');
out.push('- Both JWKS documents hold a P-256 and an Ed25519 key beside the RSA one: the reference one key of each; Gatehouse the current and the next key of each algorithm.');
out.push('- Refresh rotation: every request presents a refresh token never sent before, the one the previous response returned (bench/wrk/workload.lua says why); one family per connection.');
out.push('- Gatehouse runs with its per-address rate limits off (`GATEHOUSE_RATE_LIMIT_SIGN_IN=0`, `GATEHOUSE_RATE_LIMIT_BACK_CHANNEL=0`): all load comes from 127.0.0.1. Logging is at its default level (`info`), to a file, written by a thread of its own.');

process.stdout.write(`${out.join('\n')}\n`);
