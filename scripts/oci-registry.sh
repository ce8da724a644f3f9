#!/usr/bin/env bash
# The OCI registry the container runtime's tests pull from with credentials: the distribution
# project's `registry` (github.com/distribution/distribution/v3/cmd/registry), built from the
# Go module proxy once per version.
#
#   scripts/oci-registry.sh build     build it unless the cache has it; prints the binary's path
#
# The binary lands in $OPENSTAGE_REGISTRY_CACHE (default /var/cache/openstage-ci, or
# ~/.cache/openstage-ci when that is not writable) as registry-v<version>/registry. A build
# takes ~60 CPU-seconds; it runs under `nice` and holds its own lock, so a second `build`
# waits for the first and then finds its result. Go's module and build caches for it live in
# the build directory and are removed after success.
set -euo pipefail

REGISTRY_VERSION=3.1.2

cache_root() {
  local dir="${OPENSTAGE_REGISTRY_CACHE:-/var/cache/openstage-ci}"
  if ! mkdir -p "$dir" 2>/dev/null || [ ! -w "$dir" ]; then dir="${HOME}/.cache/openstage-ci"; mkdir -p "$dir"; fi
  echo "$dir"
}
CACHE="$(cache_root)"
OUT="$CACHE/registry-v$REGISTRY_VERSION"

build() {
  local work="$CACHE/build-registry"
  rm -rf "$work" && mkdir -p "$work/out"
  cd "$work"
  export GOMODCACHE="$work/go/mod" GOCACHE="$work/go/build" GOFLAGS= CGO_ENABLED=0
  GOBIN="$work/out" nice -n 19 go install -trimpath -ldflags "-s -w" "github.com/distribution/distribution/v3/cmd/registry@v$REGISTRY_VERSION"
  rm -rf "$OUT" && mv out "$OUT"
  go clean -modcache || true
  cd / && rm -rf "$work"
}

case "${1:-}" in
  build)
    if [ ! -x "$OUT/registry" ]; then
      exec 9>"$CACHE/registry.lock"
      flock 9
      if [ ! -x "$OUT/registry" ]; then echo "oci-registry: building registry v$REGISTRY_VERSION" >&2; build; fi
      flock -u 9
    fi
    echo "$OUT/registry"
    ;;
  *) echo "usage: $0 build" >&2; exit 2 ;;
esac
