#!/usr/bin/env bash
# Runs the Go compatibility tests (compat/go, real go-chassis sc-client; compat/go-kie,
# real go-chassis kie-client; compat/go-servicestage, the Huawei Cloud Go SDK's ServiceStage
# v2 client with a real deployment) against
# two freshly started OpenStage servers: one as started by default, and one with
# engine RBAC on (--rbac, root password from OPENSTAGE_ROOT_PASSWORD).
# Assumes `npm run build` was already done (dist/src/cli.js exists).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [[ ! -f dist/src/cli.js ]]; then
  echo "run-go.sh: dist/src/cli.js not found; run 'npm run build' first" >&2
  exit 1
fi

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();})'
}

SERVER_PIDS=()
DATA_DIRS=()
LOG_FILES=()

cleanup() {
  local rc=$?
  for pid in "${SERVER_PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -9 "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  for log in "${LOG_FILES[@]}"; do
    if [[ $rc -ne 0 && -s "$log" ]]; then
      echo "---- server log $log (last 100 lines) ----" >&2
      tail -n 100 "$log" >&2 || true
    fi
  done
  rm -rf "${DATA_DIRS[@]}" "${LOG_FILES[@]}" ${OPENSTAGE_COMPAT_SOURCE_DIR:+"$OPENSTAGE_COMPAT_SOURCE_DIR"}
  exit $rc
}
trap cleanup EXIT INT TERM

# start_server PORT [extra serve flags...]: starts `openstage serve` in the
# background and waits until GET /health answers 200.
start_server() {
  local port=$1
  shift
  local data_dir log_file pid
  data_dir="$(mktemp -d)"
  log_file="$(mktemp)"
  DATA_DIRS+=("$data_dir")
  LOG_FILES+=("$log_file")
  echo "run-go.sh: starting server on 127.0.0.1:$port $* (data dir $data_dir)"
  OPENSTAGE_DEPLOY_SOURCE_ROOTS="$OPENSTAGE_COMPAT_SOURCE_DIR" node dist/src/cli.js serve --port "$port" --data-dir "$data_dir" "$@" >"$log_file" 2>&1 &
  pid=$!
  SERVER_PIDS+=("$pid")
  for _ in $(seq 1 150); do # 150 x 0.2s = 30s
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "run-go.sh: server on port $port exited before becoming ready" >&2
      exit 1
    fi
    if [[ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$port/health" || true)" == "200" ]]; then
      echo "run-go.sh: server on port $port ready"
      return 0
    fi
    sleep 0.2
  done
  echo "run-go.sh: server on port $port did not answer 200 on GET /health within 30s" >&2
  exit 1
}

# Builds are confined and read file:// sources only under deploy.sourceRoots, as the project's
# user: the Go tests put the repositories they deploy here (readable by everyone).
OPENSTAGE_COMPAT_SOURCE_DIR="$(mktemp -d /tmp/openstage-compat-src.XXXXXX)"
chmod 755 "$OPENSTAGE_COMPAT_SOURCE_DIR"
export OPENSTAGE_COMPAT_SOURCE_DIR

# Fixed bootstrap credentials: the Huawei Cloud SDK signs its calls with this AK/SK.
export OPENSTAGE_ACCESS_KEY="COMPATAKCOMPATAK0001"
export OPENSTAGE_SECRET_KEY="compatSecretKeyCompatSecretKeyCompat0001"
export OPENSTAGE_PROJECT_ID="c0ffee00c0ffee00c0ffee00c0ffee00"
export OPENSTAGE_ADMIN_PASSWORD="Compat-Passw0rd!"

PORT="$(free_port)"
start_server "$PORT"

RBAC_PORT="$(free_port)"
ROOT_PASSWORD="Compat#Root1"
OPENSTAGE_ROOT_PASSWORD="$ROOT_PASSWORD" start_server "$RBAC_PORT" --rbac

# Each module runs even when the other fails; the script fails when either did.
rc=0
for module in go go-kie go-servicestage; do
  echo "run-go.sh: go test in compat/$module"
  (cd "$ROOT/compat/$module" && OPENSTAGE_SC_ADDR="127.0.0.1:$PORT" \
    OPENSTAGE_URL="http://127.0.0.1:$PORT" \
    OPENSTAGE_SC_RBAC_ADDR="127.0.0.1:$RBAC_PORT" \
    OPENSTAGE_SC_ROOT_PASSWORD="$ROOT_PASSWORD" \
    go test -count=1 -v ./...) || rc=1
done
exit $rc
