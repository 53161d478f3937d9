#!/usr/bin/env bash
# A whole Zebrat cluster on this one machine, smoke-tested through NGINX, then torn down.
#
#   deploy/cluster.sh [path/to/zebrat]        (or ZEBRAT_BIN=...; default: the release build,
#                                              else the debug build, under CARGO_TARGET_DIR)
#
# PostgreSQL and Redis: the ones running on 127.0.0.1:5432 / :6379 (CLUSTER_PG_URL,
# CLUSTER_REDIS_URL), or, when absent, its own started in a temporary directory. A scratch
# database and Redis prefix keep it apart from anything else there. Then, as the operator's
# guide in the README does on real hosts: migrate, seed, open the market, start two `api`
# instances and two `engine` instances (one leads, one stands by), NGINX in front of the api
# instances with the same proxy rules as deploy/nginx/zebrat.conf (plain HTTP on a free port);
# take an online backup; run deploy/smoke.py through NGINX; restart one api instance while
# NGINX keeps answering; stop everything and restore the backup. Exits non-zero on any
# failure; everything it started is stopped on exit (trap), whatever happened.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$REPO/target}"
ZEBRAT_BIN="${1:-${ZEBRAT_BIN:-}}"
if [[ -z "$ZEBRAT_BIN" ]]; then
  if [[ -x "$TARGET/release/zebrat" ]]; then ZEBRAT_BIN="$TARGET/release/zebrat"; else ZEBRAT_BIN="$TARGET/debug/zebrat"; fi
fi
[[ -x "$ZEBRAT_BIN" ]] || { echo "no zebrat binary at $ZEBRAT_BIN: cargo build first, or pass its path" >&2; exit 1; }
PG_URL="${CLUSTER_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
REDIS_URL_BASE="${CLUSTER_REDIS_URL:-redis://127.0.0.1:6379}"

T0=$(date +%s%N)
elapsed() { local ms=$((($(date +%s%N) - T0) / 1000000)); printf '%3d.%02ds' $((ms / 1000)) $((ms % 1000 / 10)); }
say() { printf '[%s] %s\n' "$(elapsed)" "$*"; }
die() { say "FAILED: $*" >&2; exit 1; }

WORK="$(mktemp -d /tmp/zebrat-cluster.XXXXXX)"
PIDS=()        # every process started here, stopped by the trap
OWN_PG=""      # data directory of our own PostgreSQL, when we had to start one
DB=""          # scratch database, dropped by the trap
PREFIX="zebrat-cluster-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"

teardown() {
  local status=$?
  set +e
  if ((status != 0)); then
    for log in "$WORK"/*.log; do
      [[ -f "$log" ]] && { echo "--- last lines of $(basename "$log")"; tail -n "${LOG_TAIL:-15}" "$log"; }
    done
  fi
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
  done
  [[ -n "$DB" ]] && psql "$PG_URL" -qc "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1
  redis-cli -u "$REDIS_URL" --scan --pattern "$PREFIX:*" 2>/dev/null | xargs -r redis-cli -u "$REDIS_URL" del >/dev/null 2>&1
  if [[ -n "$OWN_PG" ]]; then
    run_as_postgres "$PG_BIN/pg_ctl" -D "$OWN_PG" -m fast -w stop >/dev/null 2>&1
  fi
  rm -rf "$WORK"
  say "$( ((status == 0)) && echo "cluster test passed" || echo "cluster test FAILED (exit $status)")"
  exit "$status"
}
trap teardown EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until URL answers 200 (30 s), or fails naming what did not come up.
wait_healthy() {
  local url=$1 what=$2
  for _ in $(seq 1 150); do
    curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
    sleep 0.2
  done
  die "$what did not become healthy at $url"
}

# PostgreSQL refuses to run as root; our own cluster then belongs to the postgres user.
run_as_postgres() {
  if ((EUID == 0)); then runuser -u postgres -- "$@"; else "$@"; fi
}

# --- PostgreSQL and Redis: the running ones, or our own -------------------------------------
if ! pg_isready -q -d "$PG_URL"; then
  PG_BIN="$(pg_config --bindir)"
  port=$(free_port)
  OWN_PG="$WORK/pg"
  mkdir -p "$OWN_PG"
  ((EUID == 0)) && chown postgres "$WORK" "$OWN_PG"
  say "no PostgreSQL at $PG_URL: starting our own on port $port"
  run_as_postgres "$PG_BIN/initdb" -D "$OWN_PG" -U postgres --auth=trust >"$WORK/initdb.log" 2>&1
  run_as_postgres "$PG_BIN/pg_ctl" -D "$OWN_PG" -l "$WORK/postgres.log" -w \
    -o "-p $port -k $OWN_PG -c listen_addresses=127.0.0.1" start >/dev/null
  PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
fi
REDIS_URL="$REDIS_URL_BASE"
if ! redis-cli -u "$REDIS_URL" ping >/dev/null 2>&1; then
  port=$(free_port)
  say "no Redis at $REDIS_URL: starting our own on port $port"
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$WORK" \
    >"$WORK/redis.log" 2>&1 &
  PIDS+=($!)
  REDIS_URL="redis://127.0.0.1:$port"
  for _ in $(seq 1 50); do redis-cli -u "$REDIS_URL" ping >/dev/null 2>&1 && break; sleep 0.1; done
fi
DB="zebrat_cluster_${PREFIX##*-}"
psql "$PG_URL" -qc "CREATE DATABASE \"$DB\"" >/dev/null
DATABASE_URL="${PG_URL%/*}/$DB"
say "PostgreSQL database $DB, Redis prefix $PREFIX, binary $ZEBRAT_BIN"

# --- The instances' shared settings: what /etc/zebrat/zebrat.env holds on a real host ------
export DATABASE_URL REDIS_URL
export REDIS_PREFIX="$PREFIX"
export ZEBRAT_PROFILE=production
export JWT_SECRET="cluster-test-secret-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
# NGINX connects to the instances from 127.0.0.2 (proxy_bind below), so that its address and
# the smoke client's (127.0.0.1) differ and the test can tell which one the instances record.
export TRUSTED_PROXIES="127.0.0.2/32"
export BEHIND_PROXY=true
# Two api and two engine instances: the production checks then require Redis and PostgreSQL.
export EXPECT_INSTANCES=4
export RUN_MIGRATIONS=false
export TICK_INTERVAL_SECS=1
export RUST_LOG="${RUST_LOG:-info,sqlx=warn,sea_orm=warn}"

"$ZEBRAT_BIN" migrate up >"$WORK/migrate.log" 2>&1 || die "zebrat migrate up (see migrate.log)"
"$ZEBRAT_BIN" seed >>"$WORK/migrate.log" 2>&1 || die "zebrat seed"
"$ZEBRAT_BIN" market open --reason "cluster smoke test" >>"$WORK/migrate.log" 2>&1 || die "zebrat market open"
say "migrated, seeded, market forced open"

# --- Instances ------------------------------------------------------------------------------
declare -A PORT PID
start_instance() {
  local name=$1 role=$2
  PORT[$name]=${PORT[$name]:-$(free_port)}
  BIND_ADDR="127.0.0.1:${PORT[$name]}" "$ZEBRAT_BIN" serve --role "$role" >>"$WORK/$name.log" 2>&1 &
  PID[$name]=$!
  PIDS+=($!)
}
start_instance api1 api
start_instance api2 api
start_instance engine1 engine
for name in api1 api2 engine1; do wait_healthy "http://127.0.0.1:${PORT[$name]}/health" "$name"; done
# The second engine starts once the first leads, so which one leads is known to the reader of
# the log; the smoke test asks both anyway.
start_instance engine2 engine
wait_healthy "http://127.0.0.1:${PORT[engine2]}/health" engine2
say "instances up: api ${PORT[api1]} ${PORT[api2]}, engine ${PORT[engine1]} ${PORT[engine2]}"

# --- NGINX: Debian's binary, our config in the temp dir, the shipped proxy rules ------------
NGINX_PORT=$(free_port)
# How long NGINX skips an instance that refused a connection (5 s in deploy/nginx/zebrat.conf;
# shorter here to keep the test quick). A rolling restart must wait this long after an
# instance is back before stopping the next, or NGINX still skips the one that just returned
# while the next is down: the test does exactly that.
FAIL_TIMEOUT=2
mkdir -p "$WORK/nginx"
chmod 755 "$WORK"
# Workers drop root for an unprivileged user; that user's name exists only when we are root.
USER_LINE=""
((EUID == 0)) && USER_LINE="user www-data;"
cat >"$WORK/nginx/nginx.conf" <<EOF
$USER_LINE
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx.log warn;
events { worker_connections 1024; }
http {
    access_log $WORK/nginx.log;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    types_hash_max_size 2048;
    map \$http_upgrade \$connection_upgrade { default upgrade; '' close; }
    upstream zebrat_api {
        least_conn;
        server 127.0.0.1:${PORT[api1]} max_fails=1 fail_timeout=${FAIL_TIMEOUT}s;
        server 127.0.0.1:${PORT[api2]} max_fails=1 fail_timeout=${FAIL_TIMEOUT}s;
        keepalive 16;
    }
    server {
        listen 127.0.0.1:$NGINX_PORT;
        proxy_bind 127.0.0.2;
        # Which instance answered: the rolling restart waits until NGINX routes to it again.
        add_header X-Upstream \$upstream_addr always;
        include $REPO/deploy/nginx/zebrat-proxy.conf;
    }
}
EOF
NGINX=(nginx -e "$WORK/nginx.log" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf")
check=$("${NGINX[@]}" -t 2>&1) || die "nginx -t: $check"
grep -q '\[warn\]\|\[emerg\]' <<<"$check" && die "nginx -t is not clean: $check"
# The TLS site that ships (deploy/nginx/zebrat.conf) must pass `nginx -t` too: with a
# throwaway self-signed certificate at its certbot paths and its snippet path.
mkdir -p "$WORK/site"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=zebrat.example.com \
  -keyout "$WORK/site/privkey.pem" -out "$WORK/site/fullchain.pem" >/dev/null 2>&1
sed -e "s#/etc/letsencrypt/live/zebrat.example.com#$WORK/site#" \
    -e "s#/etc/nginx/snippets/zebrat-proxy.conf#$REPO/deploy/nginx/zebrat-proxy.conf#" \
    -e "s#/var/log/nginx/#$WORK/site/#" "$REPO/deploy/nginx/zebrat.conf" >"$WORK/site/zebrat.conf"
cat >"$WORK/site/nginx.conf" <<EOF
pid $WORK/site/nginx.pid;
error_log $WORK/nginx.log warn;
events { worker_connections 64; }
http {
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    include $WORK/site/zebrat.conf;
}
EOF
check=$(nginx -e "$WORK/nginx.log" -p "$WORK/nginx" -c "$WORK/site/nginx.conf" -t 2>&1) \
  || die "nginx -t on deploy/nginx/zebrat.conf: $check"
grep -q '\[warn\]\|\[emerg\]' <<<"$check" && die "nginx -t on deploy/nginx/zebrat.conf is not clean: $check"
"${NGINX[@]}" -g 'daemon off;' &
PIDS+=($!)
wait_healthy "http://127.0.0.1:$NGINX_PORT/health" "nginx"
say "nginx -t clean (the test config and the shipped TLS site); NGINX on http://127.0.0.1:$NGINX_PORT balancing both api instances"

# --- An online backup, taken while the cluster runs ------------------------------------------
"$ZEBRAT_BIN" backup --out "$WORK/zebrat.dump" >"$WORK/backup.log" 2>&1 || die "zebrat backup"
# (Listed into a variable first: `| grep -q` would stop reading early and, under pipefail,
# fail the pipeline with pg_restore's SIGPIPE.)
contents=$(pg_restore --list "$WORK/zebrat.dump") || die "pg_restore --list cannot read the backup"
grep -q 'TABLE DATA public users' <<<"$contents" || die "the backup has no users table data"
say "online backup written: $(du -h "$WORK/zebrat.dump" | cut -f1)"

# --- The smoke test, through NGINX ----------------------------------------------------------
python3 -c 'import websockets' 2>/dev/null || python3 -m pip install -q websockets
say "smoke test:"
ZEBRAT_URL="http://127.0.0.1:$NGINX_PORT" \
  ENGINES="${PID[engine1]}@127.0.0.1:${PORT[engine1]} ${PID[engine2]}@127.0.0.1:${PORT[engine2]}" \
  python3 "$REPO/deploy/smoke.py" || die "smoke test"

# --- A rolling restart of the api instances: NGINX keeps answering --------------------------
for name in api1 api2; do
  kill "${PID[$name]}"
  wait "${PID[$name]}" || true
  for _ in 1 2 3 4 5; do
    curl -fsS -o /dev/null "http://127.0.0.1:$NGINX_PORT/health" || die "NGINX failed while $name was down"
  done
  start_instance "$name" api
  wait_healthy "http://127.0.0.1:${PORT[$name]}/health" "$name (restarted)"
  # Healthy is not enough: NGINX skips it until FAIL_TIMEOUT has passed. Stopping the next
  # instance before NGINX routes to this one again would leave no instance to route to.
  back=""
  for _ in $(seq 1 100); do
    headers=$(curl -fsS -D - -o /dev/null "http://127.0.0.1:$NGINX_PORT/health") || die "NGINX failed after $name returned"
    grep -qi "^x-upstream: 127.0.0.1:${PORT[$name]}" <<<"$headers" && { back=yes; break; }
    sleep 0.1
  done
  [[ -n "$back" ]] || die "NGINX did not route to $name again after its restart"
done
say "rolling restart: each api instance stopped and started again, NGINX answered throughout"

# --- Restore: every instance stopped first, as the guide says --------------------------------
for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
PIDS=()
"$ZEBRAT_BIN" restore "$WORK/zebrat.dump" >"$WORK/restore.log" 2>&1 || die "zebrat restore (see restore.log)"
users=$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM users")
# The backup predates the smoke test's user: the restore took the database back to it.
[[ "$users" == 2 ]] || die "restored database has $users users, the backup had 2"
say "restored the online backup with every instance stopped ($users users, as backed up)"
