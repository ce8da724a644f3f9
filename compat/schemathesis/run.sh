#!/usr/bin/env bash
# Fuzzes every documented operation (/openapi.json) of a freshly started OpenStage server with
# schemathesis (from PyPI, in compat/schemathesis/.venv) for SCHEMATHESIS_SECONDS (default 120)
# and fails on any 5xx answer. The server runs with --auth none so that generated requests
# reach the handlers, with no exclusive engines allowed (engines.maxEngines 0) and short Git
# host timeouts. Assumes `npm run build` was done. Prints a closing "N passed, N failed" line.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
HERE="$ROOT/compat/schemathesis"
# SCHEMATHESIS_VENV: a venv kept elsewhere (.ci/run keeps it under /var/cache/openstage-ci).
VENV="${SCHEMATHESIS_VENV:-$HERE/.venv}"
source "$ROOT/compat/lib.sh"
ensure_venv "$VENV" "$HERE/requirements.txt"

PORT="$(free_port)"
DATA_DIR="$(mktemp -d)"
LOG_FILE="$(mktemp)"
OUT_FILE="$(mktemp)"
SERVER_PID=""
URL="http://127.0.0.1:$PORT"

cleanup() {
  local rc=$?
  stop_server "$SERVER_PID"
  if [[ $rc -ne 0 && -s "$LOG_FILE" ]]; then
    echo "---- server errors (last 20) ----" >&2
    grep '"level":50' "$LOG_FILE" | tail -n 20 >&2 || true
  fi
  rm -rf "$DATA_DIR" "$LOG_FILE" "$OUT_FILE"
  exit $rc
}
trap cleanup EXIT INT TERM

OPENSTAGE_ENGINES_MAX_ENGINES=0 OPENSTAGE_DEPLOY_STOP_ON_SHUTDOWN=true OPENSTAGE_GIT_HOST_TIMEOUT_MS=2000 \
  node dist/src/cli.js serve --port "$PORT" --data-dir "$DATA_DIR" --auth none --log-level error >"$LOG_FILE" 2>&1 &
SERVER_PID=$!
wait_ready "$SERVER_PID" "$URL/readyz" || { cat "$LOG_FILE" >&2; exit 1; }

set +e
# Long lines (schemathesis quotes whole sources in its own tracebacks) are cut for the log.
# From a temporary folder: schemathesis keeps a .schemathesis/ cache in its working directory.
( cd "$DATA_DIR" && "$VENV/bin/schemathesis" run "$URL/openapi.json" --checks not_a_server_error --max-time "${SCHEMATHESIS_SECONDS:-120}" \
  --workers 2 --request-timeout 15 --no-color ) 2>&1 | cut -c1-400 | tee "$OUT_FILE"
set -e
kill -0 "$SERVER_PID" 2>/dev/null || { echo "the server died during the run"; echo "schemathesis: 0 passed, 1 failed"; exit 1; }
# Judged on server errors only (ST101); a schemathesis-internal error is reported, not counted.
tested="$(sed -n 's/^ *Tested: \([0-9]*\).*/\1/p' "$OUT_FILE" | tail -1)"
server_errors="$(sed -n 's/.*Server error: \([0-9]*\).*/\1/p' "$OUT_FILE" | tail -1)"
failed_ops="$(sed -n '/= FAILURES =/,/= \(WARNINGS\|ERRORS\|SUMMARY\) =/p' "$OUT_FILE" | grep -c '^_\{3,\} [A-Z]* /' || true)"
if [[ -z "$tested" ]]; then
  echo "schemathesis did not run (see above)"
  echo "schemathesis: 0 passed, 1 failed"
  exit 1
fi
grep -q 'Runtime Error' "$OUT_FILE" && echo "note: schemathesis reported an error of its own (above); it is not a server error"
echo "schemathesis: $(( tested - failed_ops )) passed, $failed_ops failed (${server_errors:-0} server errors)"
[[ "${server_errors:-0}" == "0" ]]
