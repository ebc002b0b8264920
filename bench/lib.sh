# Helpers shared by bench/run and bench/scale: messages, installing what is
# missing, a local Postgres, the binary under test, and starting and stopping
# servers. Sourced, not run; the caller sets `here` (bench/), `root` (the
# repository), `bench_name` (for messages), `work` (its scratch directory),
# `pids` (an array of processes to stop on exit) and, for start_postgres,
# PG_URL.

log() { printf '==> %s\n' "$*" >&2; }
die() {
  printf '%s: %s\n' "$bench_name" "$*" >&2
  exit 1
}

need_apt() {
  # Installs the Debian packages that provide the given commands, if missing.
  local missing=() cmd pkg
  while (($#)); do
    cmd=$1 pkg=$2
    shift 2
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    apt-get update -qq || die "apt-get update failed; install ${missing[*]} by hand"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null ||
      die "could not install ${missing[*]}"
  fi
}

start_postgres() {
  local host port
  host="$(node -e 'console.log(new URL(process.argv[1]).hostname)' "$PG_URL")"
  port="$(node -e 'console.log(new URL(process.argv[1]).port || 5432)' "$PG_URL")"
  pg_isready -q -h "$host" -p "$port" 2>/dev/null && return
  # Only a local server can be started from here.
  [[ "$host" == 127.0.0.1 || "$host" == localhost ]] || die "Postgres at $host:$port is not answering"
  log "starting Postgres"
  if [[ -z "$(ls /etc/postgresql 2>/dev/null)" ]]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null || die "could not install postgresql"
  fi
  local version
  version="$(ls /etc/postgresql | sort -V | tail -1)"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 60); do
    pg_isready -q -h "$host" -p "$port" && break
    sleep 0.5
  done
  pg_isready -q -h "$host" -p "$port" || die "Postgres did not start"
  if ! psql "$PG_URL" -qtAc 'SELECT 1' >/dev/null 2>&1; then
    # Connect over TCP as postgres without a password, as .ci/run does.
    sed -i -E 's/^(host\s+all\s+all\s+127\.0\.0\.1\/32\s+)\S+/\1trust/' "/etc/postgresql/$version/main/pg_hba.conf"
    pg_ctlcluster --skip-systemctl-redirect "$version" main reload
  fi
}

# The binary under test: GATEHOUSE_BIN, or a release build of the
# repository. Sets bin.
find_gatehouse() {
  if [[ -n "${GATEHOUSE_BIN:-}" ]]; then
    [[ -x "$GATEHOUSE_BIN" ]] || die "GATEHOUSE_BIN=$GATEHOUSE_BIN is not an executable"
    bin="$(cd "$(dirname "$GATEHOUSE_BIN")" && pwd)/$(basename "$GATEHOUSE_BIN")"
  else
    log "cargo build --release"
    (cd "$root" && cargo build --release >&2) || die "cargo build --release failed"
    local target_dir="${CARGO_TARGET_DIR:-target}"
    [[ "$target_dir" == /* ]] || target_dir="$root/$target_dir"
    bin="$target_dir/release/gatehouse"
    [[ -x "$bin" ]] || die "the build left no binary at $bin"
  fi
}

stop_pid() {
  local pid=$1
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

free_port() {
  node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'
}

json_get() { node -e 'const v = JSON.parse(process.argv[1])[process.argv[2]]; console.log(typeof v === "object" ? JSON.stringify(v) : v)' "$1" "$2"; }

# Starts a server through the driver, which spawns it and times it to its
# first 200 on discovery. Sets server_pid and startup_ms.
launch() {
  local name=$1 url=$2
  shift 2
  local log="$work/$name.log" out
  if ! out="$(cd "$work" && node "$here/driver.mjs" launch --url "$url" --log "$log" -- "$@")"; then
    [[ -f "$log" ]] && tail -n 30 "$log" >&2
    die "$name did not start"
  fi
  server_pid="$(json_get "$out" pid)"
  startup_ms="$(json_get "$out" startup_ms)"
  pids+=("$server_pid")
}
