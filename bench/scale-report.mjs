// Renders bench/scale's raw results (one JSON object a line) as Markdown:
// one table per engine, a column per database size, a goal missed in bold.
//
// Usage: node bench/scale-report.mjs results.jsonl

import fs from 'node:fs';

const records = fs
  .readFileSync(process.argv[2], 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l));
const machine = records.find((r) => r.type === 'machine') ?? {};
const settings = records.find((r) => r.type === 'settings') ?? {};
const builds = records.filter((r) => r.type === 'build');
const measures = records.filter((r) => r.type === 'measure');

const ENGINES = { sqlite: 'SQLite', postgres: 'Postgres' };
// The goals (bench/scale's header and BENCHMARKS.md say why these).
const STARTUP_MS = 1000;
const WITHIN = 0.1;
const ADMIN_P95_MS = 100;
const PRUNE_P99_MS = 10;

const fmt = (n, digits = 0) =>
  n == null || Number.isNaN(n)
    ? '—'
    : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const ms = (n) => (n == null ? '—' : n >= 100 ? fmt(n, 0) : n >= 10 ? fmt(n, 1) : fmt(n, 2));
const bold = (text, missed) => (missed ? `**${text}**` : text);
const sizeName = (n) =>
  n === 0 ? 'empty' : n % 1_000_000 === 0 ? `${n / 1_000_000} M` : n % 1000 === 0 ? `${n / 1000} k` : fmt(n);
const wrkRate = (d) => (d.requests - d.errors_status - d.chained_failed) / (d.duration_us / 1e6);
const wrkErrors = (d) =>
  d.errors_status + d.errors_connect + d.errors_read + d.errors_write + d.errors_timeout + d.chained_failed;

const ADMIN = [
  ['users_rare', 'admin: user search, a rare word (`q=quixote`)'],
  ['users_common', 'admin: user search matching every user (`q=example.org`)'],
  ['users_all', 'admin: user list, no search'],
  ['audit_user', 'admin: audit log of one user (`user=`)'],
  ['audit_client', 'admin: audit log of one client (`client=`)'],
  ['audit_event', 'admin: audit log of one event (`event=token.refreshed`)'],
  ['audit_prefix', 'admin: audit log of an event prefix (`event=sign_in.`)'],
  ['audit_since', 'admin: audit log of the last day (`since=`)'],
];

const out = [];
out.push(
  `Run of ${machine.date ?? '?'} on ${machine.nproc ?? '?'} cores (${machine.cpu ?? '?'}, ${machine.ram ?? '?'}), ` +
    `${machine.gatehouse ?? 'gatehouse'} (commit ${machine.commit ?? '?'}), SQLite ${machine.sqlite ?? '?'}, ` +
    `Postgres ${machine.postgres ?? '?'}; load average before the run ${machine.load ?? '?'}.`,
  '',
  `Each sized database holds, per user, 10 live refresh-token families and 20 audit events, plus ` +
    `${fmt(settings.expired)} expired rows for pruning. wrk runs last ${settings.duration} s at ` +
    `${settings.connections} connections; sign-ins run ${settings.connections} at a time for ` +
    `${settings.duration} s; each admin query is called ${settings.calls} times in a row` +
    (settings.call_budget == null
      ? ''
      : ` (fewer, but 3 at least, once the calls have taken ${settings.call_budget} s)`) +
    `; during pruning ` +
    `${settings.prune_connections} connections refresh, each pausing ${settings.prune_pace_ms} ms before every request. ` +
    `Goals (a miss in bold): start-up under ${STARTUP_MS / 1000} s; token endpoints within ` +
    `${WITHIN * 100} % of the empty database (rate and p99); admin queries p95 under ${ADMIN_P95_MS} ms; ` +
    `refresh p99 under ${PRUNE_P99_MS} ms while pruning.`,
  '',
);

for (const engine of Object.keys(ENGINES)) {
  const rows = measures.filter((m) => m.engine === engine).sort((a, b) => a.size - b.size);
  if (!rows.length) continue;
  const base = rows.find((m) => m.size === 0);
  const table = [];
  const row = (name, cell) => table.push(`| ${name} | ${rows.map(cell).join(' | ')} |`);
  table.push(`| ${ENGINES[engine]} | ${rows.map((m) => sizeName(m.size)).join(' | ')} |`);
  table.push(`| --- | ${rows.map(() => '---:').join(' | ')} |`);
  const build = (m) => builds.find((b) => b.engine === engine && b.size === m.size);
  row('rows: users / refresh tokens / audit events', (m) => {
    const r = build(m)?.rows;
    return r ? `${fmt(r.users)} / ${fmt(r.refresh_tokens)} / ${fmt(r.audit_events)}` : '—';
  });
  row('build time', (m) => {
    const b = build(m);
    if (!b || m.size === 0) return '—';
    return b.cached ? `${fmt(b.seconds, 0)} s (cached)` : `${fmt(b.seconds, 0)} s`;
  });
  row('load average before measuring', (m) => fmt(m.load, 2));
  row('start-up to the first 200 on discovery', (m) => bold(`${ms(m.startup_ms)} ms`, m.startup_ms >= STARTUP_MS));
  for (const [key, name] of [
    ['client_credentials', 'client_credentials'],
    ['refresh', 'refresh-token rotation'],
  ]) {
    row(`${name}: rate (÷ empty)`, (m) => {
      const rate = wrkRate(m[key]);
      const ratio = base ? rate / wrkRate(base[key]) : null;
      const errors = wrkErrors(m[key]);
      const text = `${fmt(rate)} req/s (${fmt(ratio, 2)}×)${errors ? `, ${fmt(errors)} errors` : ''}`;
      return bold(text, (ratio != null && ratio < 1 - WITHIN) || errors > 0);
    });
    row(`${name}: p99 ms (÷ empty)`, (m) => {
      const p99 = m[key].p99_us / 1000;
      const ratio = base ? p99 / (base[key].p99_us / 1000) : null;
      return bold(`${ms(p99)} (${fmt(ratio, 2)}×)`, ratio != null && ratio > 1 + WITHIN);
    });
  }
  row('password sign-in: rate (÷ empty)', (m) => {
    const ratio = base ? m.signin.rate / base.signin.rate : null;
    const errors = m.signin.errors;
    return bold(
      `${fmt(m.signin.rate, 1)}/s (${fmt(ratio, 2)}×)${errors ? `, ${fmt(errors)} errors` : ''}`,
      errors > 0,
    );
  });
  for (const [key, name] of ADMIN) {
    row(`${name}: p50 / p95 ms`, (m) => {
      const a = m.admin[key];
      const fewer = a.calls != null && a.calls < settings.calls ? ` (${a.calls} calls)` : '';
      return bold(`${ms(a.p50_ms)} / ${ms(a.p95_ms)}${fewer}`, a.p95_ms >= ADMIN_P95_MS);
    });
  }
  row('pruning: rows deleted, time', (m) => {
    const p = m.prune;
    return bold(`${fmt(p.rows)} in ${p.finished ? '' : 'over '}${fmt(p.seconds, 1)} s`, !p.finished);
  });
  row('pruning: refresh p99 ms during it (rate)', (m) => {
    const d = m.prune.load;
    const p99 = d.p99_us / 1000;
    const errors = wrkErrors(d);
    return bold(
      `${ms(p99)} (${fmt(wrkRate(d))} req/s${errors ? `, ${fmt(errors)} errors` : ''})`,
      p99 >= PRUNE_P99_MS || errors > 0,
    );
  });
  out.push(...table, '');
}

out.push(
  'Build time is that of the bulk load (bench/scale-sqlite.sql or bench/scale-postgres.sql, indexes made ' +
    'after the rows) on a database the server had migrated and seeded; "cached" is a database built by an ' +
    'earlier run and reused. Pruning time runs from the first pruning round (' + settings.prune_after + ' s after ' +
    'the server was started) to the end of that round, seen by polling `gatehouse_prune_rounds_total` (to ' +
    'about 0.3 s); the rows from `gatehouse_pruned_rows_total`. The machine is shared: the load average shows ' +
    'how much else was running.',
);
console.log(out.join('\n'));
