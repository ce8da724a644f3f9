#!/usr/bin/env bash
# Runs the Python compatibility tests (compat/python, official huaweicloudsdkcore from PyPI)
# against a freshly started OpenStage server with fixed bootstrap credentials.
# Assumes `npm run build` was done. The venv lives in compat/python/.venv (not committed).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source "$ROOT/compat/lib.sh"
VENV="$ROOT/compat/python/.venv"
ensure_venv "$VENV" "$ROOT/compat/python/requirements.txt"

PORT="$(free_port)"
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
  stop_server "$SERVER_PID"
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
wait_ready "$SERVER_PID" "$OPENSTAGE_URL/health"
"$VENV/bin/pytest" -q -p no:cacheprovider "$ROOT/compat/python" 
