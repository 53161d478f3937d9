#!/usr/bin/env bash
# CI for the load tool, called from .ci/run with the debug binaries the tests already built:
#   examples/load/smoke.sh "$CARGO_TARGET_DIR/debug/zebrat" "$CARGO_TARGET_DIR/debug/examples/load"
# Starts the server on a fresh SQLite database on a free port with examples/load/server.env and
# the market open, runs every scenario briefly (and the peer), and fails when a scenario fails
# or its figures show no traffic or a failure. Debug builds: the figures mean nothing here.
set -euo pipefail
cd "$(dirname "$0")"
BIN="$(realpath "${1:?usage: smoke.sh path/to/zebrat path/to/load}")"
LOAD="$(realpath "${2:?usage: smoke.sh path/to/zebrat path/to/load}")"
WORK="$(mktemp -d)"
PIDS=()
cleanup() {
  local status=$?
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if ((status != 0)) && [[ -s "$WORK/server.log" ]]; then tail -n 40 "$WORK/server.log"; fi
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

PORT="$(free_port)"
URL="http://127.0.0.1:$PORT"
(
  set -a; . ./server.env; set +a
  export DATABASE_URL="sqlite://$WORK/zebrat.db?mode=rwc" BIND_ADDR="127.0.0.1:$PORT" SEED_DEMO_DATA=true
  "$BIN" migrate up >/dev/null
  "$BIN" seed >/dev/null
  "$BIN" market open --reason "load tool smoke test" >/dev/null
  exec "$BIN" serve
) >"$WORK/server.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 600); do curl -fsS "$URL/health" >/dev/null 2>&1 && break; sleep 0.1; done
SERVER="$(ss -ltnpH "sport = :$PORT" | grep -o 'pid=[0-9]*' | head -n1 | cut -d= -f2)"

# check FILE KEY...: every figure named KEY must be above 0 ("+KEY") or exactly 0 ("=KEY").
check() {
  python3 - "$@" <<'PY'
import json, sys
reports = json.load(open(sys.argv[1]))
figures = {k: v["value"] for r in reports for k, v in r["figures"].items()}
for want in sys.argv[2:]:
    rule, key = want[0], want[1:]
    value = figures.get(key)
    ok = value is not None and (value > 0 if rule == "+" else value == 0)
    print(f"  {key} = {value} ({'ok' if ok else 'WRONG'})")
    if not ok:
        sys.exit(1)
PY
}

run() { echo "==> load $*"; "$LOAD" --url "$URL" --secs 3 --json "$WORK/out.json" "$@" >/dev/null; }
run --pid "$SERVER" fanout --subscribers 40 --stocks 5
check "$WORK/out.json" +frames "=errors" "=out of order"
run fanout --subscribers 20 --parse at
check "$WORK/out.json" +frames "=errors"
run orders --clients 1,4
check "$WORK/out.json" "+clients=4 orders/s" "=clients=4 failed" "=accounts wrong"
run reads --connections 4
check "$WORK/out.json" "+stocks requests/s" "+candles 30d 1H requests/s" "+portfolio requests/s" \
  "=stocks failed" "=candles 30d 1H failed" "=portfolio failed"
run accounts --subscribers 10 --traders 0.5 --every 1
check "$WORK/out.json" "+portfolio frames" "+orders filled/s" "=orders failed"
run mixed --scale 0.005
check "$WORK/out.json" +frames "+portfolio frames" "+reads/s" "=failed"

PEER="$(free_port)"
"$LOAD" peer --bind "127.0.0.1:$PEER" 2>/dev/null &
PIDS+=($!)
for _ in $(seq 1 100); do curl -fsS -o /dev/null -X POST -H 'content-type: application/json' \
  -d '{"query":"{ __typename }"}' "http://127.0.0.1:$PEER/graphql" 2>/dev/null && break; sleep 0.1; done
echo "==> load reads --only stocks / fanout against the peer"
"$LOAD" --url "http://127.0.0.1:$PEER" --secs 3 --json "$WORK/out.json" reads --connections 4 --only stocks >/dev/null
check "$WORK/out.json" "+stocks requests/s" "=stocks failed"
"$LOAD" --url "http://127.0.0.1:$PEER" --secs 3 --json "$WORK/out.json" fanout --subscribers 10 >/dev/null
check "$WORK/out.json" +frames "=errors"
echo "load tool: every scenario ran"
