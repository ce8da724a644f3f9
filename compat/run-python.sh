#!/usr/bin/env bash
# Runs the Python compatibility tests (compat/python, official huaweicloudsdk* packages from
# PyPI) against a freshly started OpenStage server with fixed bootstrap credentials.
# Assumes `npm run build` was done. The venv lives in compat/python/.venv (not committed).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/huawei-server.sh"
VENV="$ROOT/compat/python/.venv"
if [[ ! -x "$VENV/bin/pytest" ]] || ! cmp -s "$ROOT/compat/python/requirements.txt" "$VENV/requirements.txt"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r "$ROOT/compat/python/requirements.txt"
  cp "$ROOT/compat/python/requirements.txt" "$VENV/requirements.txt"
fi
start_huawei_server
make_node_hello_package
"$VENV/bin/pytest" -q -p no:cacheprovider "$ROOT/compat/python"
