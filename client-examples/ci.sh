#!/usr/bin/env bash
# CI for the integrator examples, called from .ci/run with the debug binary:
#   client-examples/ci.sh "$CARGO_TARGET_DIR/debug/zebrat"
# Builds nothing: starts that binary on a fresh SQLite database in a temp folder, on a free
# port, with the demo data, the market forced open (`zebrat market open`), a tick round a
# second and the rate limits off (every test registers accounts of its own), then runs
#   typescript/  npm ci && npm test   (codegen from schema/schema.graphql, tsc, node --test)
#   python/      pytest                (in a venv: python/.venv, or $VENV)
#   sse/         npm ci && npm test    (the graphql-sse client)
# against it with ZEBRAT_URL, and stops it. Any failure fails the script.
set -euo pipefail
cd "$(dirname "$0")"
HERE="$(pwd)"

BIN="${1:?usage: ci.sh path/to/zebrat (the debug binary)}"
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
[[ -x "$BIN" ]] || { echo "ci.sh: no executable at $BIN" >&2; exit 1; }

step() { printf '\n==> client examples: %s\n' "$*"; }

WORK="$(mktemp -d)"
SERVER_PID=""
stop_server() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID"
    for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$SERVER_PID" 2>/dev/null && kill -KILL "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
on_exit() {
  local status=$?
  stop_server
  if ((status != 0)) && [[ -s "$WORK/server.log" ]]; then
    echo "--- the server's log (last 40 lines)"
    tail -n 40 "$WORK/server.log"
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap on_exit EXIT

PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export ZEBRAT_URL="http://127.0.0.1:$PORT"
export ZEBRAT_EXPECT_OPEN=1

step "server on $ZEBRAT_URL (SQLite in $WORK, market forced open)"
(
  export DATABASE_URL="sqlite://$WORK/zebrat.db?mode=rwc" BIND_ADDR="127.0.0.1:$PORT" ZEBRAT_PROFILE=local \
    SEED_DEMO_DATA=true TICK_INTERVAL_SECS=1 RUST_LOG=warn \
    RATE_LIMIT_LOGIN=off RATE_LIMIT_LOGIN_GLOBAL=off RATE_LIMIT_REGISTER=off RATE_LIMIT_ORDERS=off \
    RATE_LIMIT_DEPOSITS=off
  "$BIN" migrate up >/dev/null
  "$BIN" seed >/dev/null
  "$BIN" market open --reason "client examples CI" >/dev/null
  exec "$BIN" serve
) >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 600); do
  curl -fsS "$ZEBRAT_URL/health" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "the server exited"; exit 1; }
  sleep 0.1
done
curl -fsS "$ZEBRAT_URL/health" >/dev/null
curl -fsS "$ZEBRAT_URL/graphql" -H 'content-type: application/json' \
  -d '{"query":"{ marketState { isOpen } }"}' | grep -q '"isOpen":true' \
  || { echo "the market is not open"; exit 1; }

step "typescript: npm ci && npm test (Apollo Client and urql)"
cd "$HERE/typescript"
npm ci --no-audit --no-fund --loglevel=error
npm test

step "python: pytest (gql: trading flow, tick recorder through dropped connections)"
cd "$HERE/python"
VENV="${VENV:-$HERE/python/.venv}"
[[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check -r requirements.txt
"$VENV/bin/pytest" -q -p no:cacheprovider

step "sse: npm ci && npm test (graphql-sse, on the same server as the clients above)"
cd "$HERE/sse"
npm ci --no-audit --no-fund --loglevel=error
npm test

stop_server
echo
echo "client examples: typescript, python and sse passed against $ZEBRAT_URL"
