#!/usr/bin/env bash
# Runs the Go compatibility tests (compat/go, real go-chassis sc-client)
# against a freshly started OpenStage server.
# Assumes `npm run build` was already done (dist/src/cli.js exists).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [[ ! -f dist/src/cli.js ]]; then
  echo "run-go.sh: dist/src/cli.js not found; run 'npm run build' first" >&2
  exit 1
fi

PORT="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();})')"
DATA_DIR="$(mktemp -d)"
LOG_FILE="$(mktemp)"
SERVER_PID=""

cleanup() {
  local rc=$?
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ $rc -ne 0 && -s "$LOG_FILE" ]]; then
    echo "---- server log (last 100 lines) ----" >&2
    tail -n 100 "$LOG_FILE" >&2 || true
  fi
  rm -rf "$DATA_DIR" "$LOG_FILE"
  exit $rc
}
trap cleanup EXIT INT TERM

echo "run-go.sh: starting server on 127.0.0.1:$PORT (data dir $DATA_DIR)"
node dist/src/cli.js serve --port "$PORT" --data-dir "$DATA_DIR" >"$LOG_FILE" 2>&1 &
SERVER_PID=$!

ready=0
for _ in $(seq 1 150); do # 150 x 0.2s = 30s
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "run-go.sh: server exited before becoming ready" >&2
    exit 1
  fi
  code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$PORT/health" || true)"
  if [[ "$code" == "200" ]]; then
    ready=1
    break
  fi
  sleep 0.2
done
if [[ $ready -ne 1 ]]; then
  echo "run-go.sh: server did not answer 200 on GET /health within 30s" >&2
  exit 1
fi
echo "run-go.sh: server ready"

cd "$ROOT/compat/go"
OPENSTAGE_SC_ADDR="127.0.0.1:$PORT" go test -count=1 -v ./...
