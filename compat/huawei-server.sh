#!/usr/bin/env bash
# Sourced by the Huawei Cloud SDK compat runners (run-python.sh, run-java.sh, run-go-sdk.sh):
# start_huawei_server starts `openstage serve` (dist/src/cli.js, built beforehand) on a free
# port with fixed bootstrap credentials, exports OPENSTAGE_URL, OPENSTAGE_ACCESS_KEY,
# OPENSTAGE_SECRET_KEY and OPENSTAGE_PROJECT_ID for the tests, waits for /health, and stops
# the server (printing its log on failure) when the calling script exits.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export OPENSTAGE_ACCESS_KEY="COMPATAKCOMPATAK0001"
export OPENSTAGE_SECRET_KEY="compatSecretKeyCompatSecretKeyCompat0001"
export OPENSTAGE_PROJECT_ID="c0ffee00c0ffee00c0ffee00c0ffee00"
export OPENSTAGE_ADMIN_PASSWORD="Compat-Passw0rd!"
HUAWEI_SERVER_PID=""
HUAWEI_DATA_DIR="$(mktemp -d)"
HUAWEI_LOG_FILE="$(mktemp)"
# Builds are confined and read file:// sources only under deploy.sourceRoots, as the project's
# user: the tests put the packages and repositories they deploy here (readable by everyone).
OPENSTAGE_COMPAT_SOURCE_DIR="$(mktemp -d /tmp/openstage-compat-src.XXXXXX)"
chmod 755 "$OPENSTAGE_COMPAT_SOURCE_DIR"
export OPENSTAGE_COMPAT_SOURCE_DIR

stop_huawei_server() {
  local rc=$?
  if [[ -n "$HUAWEI_SERVER_PID" ]] && kill -0 "$HUAWEI_SERVER_PID" 2>/dev/null; then
    kill "$HUAWEI_SERVER_PID" 2>/dev/null || true
    wait "$HUAWEI_SERVER_PID" 2>/dev/null || true
  fi
  if [[ $rc -ne 0 && -s "$HUAWEI_LOG_FILE" ]]; then
    echo "---- server log (last 50 lines) ----" >&2
    tail -n 50 "$HUAWEI_LOG_FILE" >&2 || true
  fi
  rm -rf "$HUAWEI_DATA_DIR" "$HUAWEI_LOG_FILE" "$OPENSTAGE_COMPAT_SOURCE_DIR"
  exit $rc
}

start_huawei_server() {
  if [[ ! -f "$ROOT/dist/src/cli.js" ]]; then
    echo "dist/src/cli.js not found; run 'npm run build' first" >&2
    exit 1
  fi
  local port
  port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();})')"
  export OPENSTAGE_URL="http://127.0.0.1:$port"
  trap stop_huawei_server EXIT INT TERM
  # Exclusive engines (CSE CreateEngine) get any free port and stop with the server.
  OPENSTAGE_ENGINES_PORT_MIN=0 OPENSTAGE_ENGINES_STOP_ON_SHUTDOWN=true OPENSTAGE_DEPLOY_SOURCE_ROOTS="$OPENSTAGE_COMPAT_SOURCE_DIR" \
    node "$ROOT/dist/src/cli.js" serve --port "$port" --data-dir "$HUAWEI_DATA_DIR" --log-level warn >"$HUAWEI_LOG_FILE" 2>&1 &
  HUAWEI_SERVER_PID=$!
  for _ in $(seq 1 150); do
    kill -0 "$HUAWEI_SERVER_PID" 2>/dev/null || { echo "the OpenStage server exited" >&2; exit 1; }
    [[ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$OPENSTAGE_URL/health" || true)" == "200" ]] && return 0
    sleep 0.2
  done
  echo "the OpenStage server did not answer /health within 30 s" >&2
  exit 1
}

# A .tar.gz of examples/node-hello (a component package the tests deploy); path in OPENSTAGE_NODE_HELLO_TGZ.
make_node_hello_package() {
  export OPENSTAGE_NODE_HELLO_TGZ="$OPENSTAGE_COMPAT_SOURCE_DIR/node-hello.tar.gz"
  tar -czf "$OPENSTAGE_NODE_HELLO_TGZ" -C "$ROOT/examples" node-hello
}
