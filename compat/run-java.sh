#!/usr/bin/env bash
# Runs the Java compatibility tests (compat/java: the official Huawei Cloud Java SDK from Maven
# Central — huaweicloud-sdk-servicestage v3 and its v2 Git operations, huaweicloud-sdk-cse v1)
# against a freshly started OpenStage server. Assumes `npm run build` was done; Maven's local
# repository (~/.m2, or MAVEN_REPO_LOCAL) caches the SDK between runs.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/huawei-server.sh"
start_huawei_server
make_node_hello_package
cd "$ROOT/compat/java"
mvn -B -ntp ${MAVEN_REPO_LOCAL:+-Dmaven.repo.local=$MAVEN_REPO_LOCAL} test
