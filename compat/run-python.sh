#!/usr/bin/env bash
# Runs the Python compatibility tests (compat/python, official huaweicloudsdkcore from PyPI)
# against a freshly started OpenStage server with fixed bootstrap credentials.
# Assumes `npm run build` was done. The venv lives in compat/python/.venv (not committed).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/compat/python/.venv"
if [[ ! -x "$VENV/bin/pytest" ]] || ! cmp -s "$ROOT/compat/python/requirements.txt" "$VENV/requirements.txt"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r "$ROOT/compat/python/requirements.txt"
  cp "$ROOT/compat/python/requirements.txt" "$VENV/requirements.txt"
fi

PORT="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();})')"
DATA_DIR="$(mktemp -d)"
LOG_FILE="$(mktemp)"
SERVER_PID=""
export OPENSTAGE_ACCESS_KEY="COMPATAKCOMPATAK0001"
export OPENSTAGE_SECRET_KEY="compatSecretKeyCompatSecretKeyCompat0001"
export OPENSTAGE_PROJECT_ID="c0ffee00c0ffee00c0ffee00c0ffee00"
export OPENSTAGE_ADMIN_PASSWORD="Compat-Passw0rd!"
export OPENSTAGE_URL="http://127.0.0.1:$PORT"

cleanup() {
  local rc=$?
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ $rc -ne 0 && -s "$LOG_FILE" ]]; then
    echo "---- server log (last 50 lines) ----" >&2
    tail -n 50 "$LOG_FILE" >&2 || true
  fi
  rm -rf "$DATA_DIR" "$LOG_FILE"
  exit $rc
}
trap cleanup EXIT INT TERM

node dist/src/cli.js serve --port "$PORT" --data-dir "$DATA_DIR" --log-level warn >"$LOG_FILE" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 150); do
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "run-python.sh: server exited" >&2; exit 1; }
  [[ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$OPENSTAGE_URL/health" || true)" == "200" ]] && break
  sleep 0.2
done
"$VENV/bin/pytest" -q -p no:cacheprovider "$ROOT/compat/python" 
