# Shared by the compat scripts (source it): a pinned venv, a free port, a server start.

# ensure_venv VENV REQUIREMENTS: creates VENV and installs REQUIREMENTS into it, again only
# when the requirements changed since (a copy is kept in the venv).
ensure_venv() {
  local venv=$1 reqs=$2
  if [[ ! -x "$venv/bin/python" ]] || ! cmp -s "$reqs" "$venv/requirements.txt"; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q -r "$reqs"
    cp "$reqs" "$venv/requirements.txt"
  fi
}

# free_port: a free loopback TCP port.
free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();})'
}

# wait_ready PID URL: waits (up to 60 s) until URL answers 200; fails if PID exits first.
wait_ready() {
  local pid=$1 url=$2
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || { echo "$(basename "$0"): server exited" >&2; return 1; }
    [[ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$url" || true)" == "200" ]] && return 0
    sleep 0.2
  done
  echo "$(basename "$0"): $url did not answer within 60 s" >&2
  return 1
}

# stop_server PID: SIGTERM, then waits for it to exit (nothing when it is gone already).
stop_server() {
  local pid=$1
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
}
