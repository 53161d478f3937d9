#!/usr/bin/env bash
# A GraphQL session with curl: log in, then `me`, the stock list and one stock with its last
# five daily candles. Documents are read from operations/*.graphql.
#
#   ZEBRAT_URL=http://localhost:8000 SYMBOL=AAPL ./curl.sh
set -euo pipefail

URL="${ZEBRAT_URL:-http://localhost:8000}"
URL="${URL%/}/graphql"
OPS="$(dirname "$0")/operations"

# JSON helpers: jq when installed, else python3.
if command -v jq >/dev/null; then
  pretty() { jq .; }
  json_string() { jq -Rs .; } # stdin as one JSON string
  field() { jq -r "$1"; }     # field .data.login.accessToken
else
  pretty() { python3 -m json.tool; }
  json_string() { python3 -c 'import json, sys; print(json.dumps(sys.stdin.read()))'; }
  field() {
    python3 -c 'import json, sys
value = json.load(sys.stdin)
for key in sys.argv[1].lstrip(".").split("."):
    value = value[key] if isinstance(value, dict) else None
print("null" if value is None else value)' "$1"
  }
fi

# gql OPERATION [VARIABLES]: POSTs operations/OPERATION.graphql as JSON, with the access token
# in the Authorization header when $TOKEN is set.
gql() {
  local vars="${2:-"{}"}" auth=()
  if [[ -n "${TOKEN:-}" ]]; then
    auth=(-H "Authorization: Bearer $TOKEN")
  fi
  curl -sS "$URL" -H 'Content-Type: application/json' "${auth[@]}" \
    --data "{\"query\": $(json_string <"$OPS/$1.graphql"), \"variables\": $vars}"
}

echo "== me without a token: still HTTP 200, the failure is in errors[].extensions.code"
TOKEN='' gql Me | pretty

echo "== login"
login="$(gql Login '{"input": {"email": "demo@example.com", "password": "demo123"}}')"
echo "$login" | pretty
TOKEN="$(echo "$login" | field .data.login.accessToken)"
if [[ "$TOKEN" == null ]]; then
  echo "login failed" >&2
  exit 1
fi

echo "== me, with -H 'Authorization: Bearer <accessToken>'"
gql Me | pretty

echo "== stocks"
gql Stocks | pretty

echo "== ${SYMBOL:-AAPL} with its last 5 daily candles"
gql StockCandles "{\"symbol\": \"${SYMBOL:-AAPL}\", \"interval\": \"D1\", \"last\": 5}" | pretty
