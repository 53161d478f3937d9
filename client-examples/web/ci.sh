#!/usr/bin/env bash
# CI for the web app (client-examples/web), called from .ci/run with the debug binary:
#   client-examples/web/ci.sh "$CARGO_TARGET_DIR/debug/zebrat"
# 1. npm ci  2. regenerate the typed client from schema/schema.graphql and type-check it (a
# schema change that breaks the app fails here)  3. rebuild the bundle and fail when the
# committed one (dist/, embedded in the binary) differs  4. the browser tests (Playwright
# driving Debian's chromium; no browser download) against a server started on a free port
# with a fresh SQLite database. Screenshots land in client-examples/web/screenshots/.
set -euo pipefail
cd "$(dirname "$0")"

BIN="${1:?usage: ci.sh path/to/zebrat (the debug binary)}"
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
[[ -x "$BIN" ]] || { echo "ci.sh: no executable at $BIN" >&2; exit 1; }

step() { printf '\n==> web: %s\n' "$*"; }

step "npm ci"
npm ci --no-audit --no-fund --loglevel=error

step "typed client from schema/schema.graphql, type check"
npm run --silent codegen
npx tsc --noEmit -p .
if ! git diff --exit-code --stat -- src/gql || [[ -n "$(git status --porcelain -- src/gql)" ]]; then
  echo "client-examples/web/src/gql is stale: run 'npm run codegen && npm run build' in client-examples/web and commit"
  exit 1
fi

step "bundle: rebuild and compare with the committed dist/"
npm run --silent build >/dev/null
if ! git diff --exit-code --stat -- dist || [[ -n "$(git status --porcelain -- dist)" ]]; then
  git status --short -- dist | head -20
  echo "client-examples/web/dist differs from its source: run 'npm run build' in client-examples/web and commit dist/"
  exit 1
fi
du -sh dist

step "browser tests (Playwright + Debian's chromium)"
if ! command -v chromium >/dev/null; then
  SUDO=""; ((EUID == 0)) || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
rm -rf screenshots && mkdir -p screenshots
# LEADERBOARD_WAIT=1: the leaderboard test waits for the engine's next five-minute recording
# (up to five minutes) instead of skipping its ranking half when none passed during the run.
LEADERBOARD_WAIT=1 ZEBRAT_BIN="$BIN" CHROMIUM="$(command -v chromium)" \
  node --test --test-concurrency=1 tests/
