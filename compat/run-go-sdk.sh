#!/usr/bin/env bash
# Runs the Huawei Cloud Go SDK compatibility tests (compat/go-sdk: huaweicloud-sdk-go-v3's CSE
# v1 client, and ServiceStage v3 through the SDK's core) against a freshly started OpenStage
# server. Assumes `npm run build` was done; the module cache (go env GOMODCACHE) keeps the SDK.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/huawei-server.sh"
start_huawei_server
make_node_hello_package
cd "$ROOT/compat/go-sdk"
go test -count=1 -v ./...
