#!/usr/bin/env bash
# A throw-away Kubernetes cluster for the Kubernetes runtime's tests: a real control plane
# (etcd, kube-apiserver, kube-controller-manager, kube-scheduler) with simulated nodes (KWOK:
# pods are scheduled and become Running/Ready, but no image is pulled and no container runs).
#
#   scripts/k8s-test-cluster.sh build       build the binaries missing from the cache
#   scripts/k8s-test-cluster.sh up DIR      start a cluster on loopback, write DIR/kubeconfig
#   scripts/k8s-test-cluster.sh down DIR    stop it (kwok, scheduler, controller-manager,
#                                           apiserver, etcd: the apiserver hangs otherwise)
#   scripts/k8s-test-cluster.sh kubectl-path   where the cached kubectl is
#
# Binaries are built from the Go module proxy, once per version, into
# $OPENSTAGE_K8S_CACHE (default /var/cache/openstage-ci, or ~/.cache/openstage-ci when that
# is not writable): k8s-v<version>/, etcd-v<version>/, kwok-v<version>/. A build takes
# ~650 CPU-seconds and ~2 GB of memory (Kubernetes) plus ~150 (etcd, KWOK); it runs under
# `nice` and holds a lock, so a second `build` waits for the first and then finds its result.
# Go's module and build caches for it live under the cache too and are removed after success.
#
# Pods can be made to fail or to be slow: the stages in DIR/stages (written by `up`) turn a
# pod whose label openstage.test/fail is ImagePullBackOff or CrashLoopBackOff (a component's
# `labels` reach its pods) into one whose container waits with that reason, never Ready; a
# pod labelled openstage.test/ready-after=<duration> (e.g. 30s) becomes Ready that late.
set -euo pipefail

K8S_VERSION=1.35.4
ETCD_VERSION=3.6.5
KWOK_VERSION=0.8.0

cache_root() {
  local dir="${OPENSTAGE_K8S_CACHE:-/var/cache/openstage-ci}"
  if ! mkdir -p "$dir" 2>/dev/null || [ ! -w "$dir" ]; then dir="${HOME}/.cache/openstage-ci"; mkdir -p "$dir"; fi
  echo "$dir"
}
CACHE="$(cache_root)"
K8S_DIR="$CACHE/k8s-v$K8S_VERSION"
ETCD_DIR="$CACHE/etcd-v$ETCD_VERSION"
KWOK_DIR="$CACHE/kwok-v$KWOK_VERSION"

log() { echo "k8s-test-cluster: $*" >&2; }

# go_build NAME OUT_DIR: builds in $CACHE/build-NAME from the go.mod already written there,
# then moves the result to OUT_DIR in one rename (OUT_DIR existing = complete build).
go_env() {
  export GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build" GOFLAGS=-mod=mod CGO_ENABLED=0
}

build_k8s() {
  local work="$CACHE/build-k8s"
  rm -rf "$work" && mkdir -p "$work/out"
  cd "$work"
  go_env
  # Kubernetes' own go.mod points its staging modules at ./staging/src/k8s.io/<name>, which
  # does not exist in the module zip: each is replaced by its published k8s.io/<name> v0.x.
  local modfile staging
  modfile="$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p')"
  staging="$(sed -n 's#^\tk8s.io/\([a-z0-9-]*\) => ./staging/src/k8s.io/.*#\1#p' "$modfile")"
  [ -n "$staging" ] || { log "no staging modules found in $modfile"; return 1; }
  {
    echo "module openstage.test/k8s-build"
    echo
    echo "go 1.25.0"
    echo
    echo "require k8s.io/kubernetes v$K8S_VERSION"
    echo
    for cmd in kube-apiserver kube-controller-manager kube-scheduler kubectl; do echo "tool k8s.io/kubernetes/cmd/$cmd"; done
    echo
    for m in $staging; do echo "replace k8s.io/$m => k8s.io/$m v0.${K8S_VERSION#1.}"; done
  } >go.mod
  nice -n 19 go mod tidy -e
  local v="k8s.io/component-base/version" c="k8s.io/client-go/pkg/version" ldflags="-s -w" minor="${K8S_VERSION#1.}"
  minor="${minor%%.*}"
  for p in "$v" "$c"; do
    ldflags="$ldflags -X $p.gitVersion=v$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  nice -n 19 go build -trimpath -ldflags "$ldflags" -o out/ \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
  rm -rf "$K8S_DIR" && mv out "$K8S_DIR"
}

build_etcd() {
  local work="$CACHE/build-etcd"
  rm -rf "$work" && mkdir -p "$work/out"
  cd "$work"
  go_env
  printf 'module openstage.test/etcd-build\n\ngo 1.24.0\n\nrequire go.etcd.io/etcd/server/v3 v%s\n\ntool go.etcd.io/etcd/server/v3\n' "$ETCD_VERSION" >go.mod
  nice -n 19 go mod tidy -e
  nice -n 19 go build -trimpath -ldflags "-s -w" -o out/etcd go.etcd.io/etcd/server/v3
  rm -rf "$ETCD_DIR" && mv out "$ETCD_DIR"
}

build_kwok() {
  local work="$CACHE/build-kwok"
  rm -rf "$work" && mkdir -p "$work/out"
  cd "$work"
  go_env
  printf 'module openstage.test/kwok-build\n\ngo 1.26.0\n\nrequire sigs.k8s.io/kwok v%s\n\ntool sigs.k8s.io/kwok/cmd/kwok\n' "$KWOK_VERSION" >go.mod
  nice -n 19 go mod tidy -e
  nice -n 19 go build -trimpath -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=v$KWOK_VERSION" -o out/kwok sigs.k8s.io/kwok/cmd/kwok
  # The stage files (what KWOK does to nodes and pods) ship in the module, not in the binary.
  cp -r "$(go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)/kustomize/stage" out/stage
  chmod -R u+w out/stage
  rm -rf "$KWOK_DIR" && mv out "$KWOK_DIR"
}

cmd_build() {
  command -v go >/dev/null || { log "Go toolchain missing"; return 1; }
  exec 9>"$CACHE/build.lock"
  flock 9
  local built=0
  if [ ! -x "$K8S_DIR/kube-apiserver" ]; then log "building Kubernetes v$K8S_VERSION (~10 min)"; (build_k8s); built=1; fi
  if [ ! -x "$ETCD_DIR/etcd" ]; then log "building etcd v$ETCD_VERSION"; (build_etcd); built=1; fi
  if [ ! -x "$KWOK_DIR/kwok" ]; then log "building KWOK v$KWOK_VERSION"; (build_kwok); built=1; fi
  if [ "$built" = 1 ]; then
    (go_env; go clean -modcache; go clean -cache) || true
    rm -rf "$CACHE/go" "$CACHE"/build-k8s "$CACHE"/build-etcd "$CACHE"/build-kwok
  fi
  flock -u 9
}

# ───────────────────────── up / down ─────────────────────────

# Order of start; `down` stops them in reverse.
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

free_port() {
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# wait_for WHAT SECONDS CMD...: runs CMD until it succeeds; fails naming WHAT after SECONDS.
wait_for() {
  local what="$1" seconds="$2"; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then log "$what not ready after ${seconds}s (logs in $DIR/logs)"; return 1; fi
    sleep 0.2
  done
}

# start NAME BINARY ARGS...: starts a detached process, its pid in $DIR/pids/NAME.
start() {
  local name="$1"; shift
  setsid "$@" >"$DIR/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$DIR/pids/$name"
}

# alive NAME: its recorded pid runs and is still that program (a pid may have been reused).
alive() {
  local pid
  [ -f "$DIR/pids/$1" ] && pid="$(cat "$DIR/pids/$1")" && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "/$1 "
}

# cert NAME SUBJECT [SAN]: an EC P-256 key and a certificate signed by the cluster's CA.
cert() {
  local name="$1" subject="$2" san="${3:-}" ext="$DIR/pki/$1.ext"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$DIR/pki/$name.key" 2>/dev/null
  openssl req -new -key "$DIR/pki/$name.key" -subj "$subject" -out "$DIR/pki/$name.csr" 2>/dev/null
  { echo "basicConstraints=CA:FALSE"; echo "keyUsage=critical,digitalSignature,keyEncipherment"
    if [ -n "$san" ]; then echo "extendedKeyUsage=serverAuth"; echo "subjectAltName=$san"; else echo "extendedKeyUsage=clientAuth"; fi; } >"$ext"
  openssl x509 -req -in "$DIR/pki/$name.csr" -CA "$DIR/pki/ca.crt" -CAkey "$DIR/pki/ca.key" -CAcreateserial \
    -days 30 -extfile "$ext" -out "$DIR/pki/$name.crt" 2>/dev/null
}

# kubeconfig FILE USER: a self-contained kubeconfig (certificates inline) for a client certificate.
kubeconfig() {
  local b64="base64 -w0"
  cat >"$1" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: openstage-test
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority-data: $($b64 <"$DIR/pki/ca.crt")
users:
- name: $2
  user:
    client-certificate-data: $($b64 <"$DIR/pki/$2.crt")
    client-key-data: $($b64 <"$DIR/pki/$2.key")
contexts:
- name: openstage-test
  context: {cluster: openstage-test, user: $2, namespace: default}
current-context: openstage-test
YAML
  chmod 600 "$1"
}

# Our pod stages: Ready at once unless the label openstage.test/fail names a failure,
# then the container waits with that reason (ImagePullBackOff, ErrImagePull: phase Pending;
# CrashLoopBackOff and anything else: Running, restarted, never Ready). A failure stage has
# weight 1, so KWOK prefers it over a ready stage (weight 0) whenever both would match.
write_stages() {
  cat >"$DIR/stages/openstage-pod.yaml" <<'YAML'
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: openstage-pod-ready
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
    - {key: '.metadata.deletionTimestamp', operator: DoesNotExist}
    - {key: '.metadata.labels["openstage.test/fail"]', operator: DoesNotExist}
    - {key: '.status.phase', operator: In, values: [Pending]}
  delay:
    durationMilliseconds: 0
    durationFrom: {expressionFrom: '.metadata.labels["openstage.test/ready-after"]'}
  next:
    statusTemplate: |
      {{ $now := Now }}
      phase: Running
      startTime: {{ $now | Quote }}
      hostIP: {{ NodeIPWith .spec.nodeName | Quote }}
      podIP: {{ PodIPWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) | Quote }}
      conditions:
      - {type: Initialized, status: "True", lastTransitionTime: {{ $now | Quote }}}
      - {type: ContainersReady, status: "True", lastTransitionTime: {{ $now | Quote }}}
      - {type: Ready, status: "True", lastTransitionTime: {{ $now | Quote }}}
      containerStatuses:
      {{ range .spec.containers }}
      - {name: {{ .name | Quote }}, image: {{ .image | Quote }}, ready: true, started: true, restartCount: 0, state: {running: {startedAt: {{ $now | Quote }}}}}
      {{ end }}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: openstage-pod-fail
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  weight: 1
  selector:
    matchExpressions:
    - {key: '.metadata.deletionTimestamp', operator: DoesNotExist}
    - {key: '.metadata.labels["openstage.test/fail"]', operator: Exists}
    - {key: '.status.containerStatuses', operator: DoesNotExist}
  next:
    statusTemplate: |
      {{ $now := Now }}
      {{ $reason := index .metadata.labels "openstage.test/fail" }}
      {{ $pull := or (eq $reason "ImagePullBackOff") (eq $reason "ErrImagePull") }}
      phase: {{ if $pull }}Pending{{ else }}Running{{ end }}
      startTime: {{ $now | Quote }}
      hostIP: {{ NodeIPWith .spec.nodeName | Quote }}
      podIP: {{ PodIPWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) | Quote }}
      conditions:
      - {type: Initialized, status: "True", lastTransitionTime: {{ $now | Quote }}}
      - {type: ContainersReady, status: "False", reason: ContainersNotReady, lastTransitionTime: {{ $now | Quote }}}
      - {type: Ready, status: "False", reason: ContainersNotReady, lastTransitionTime: {{ $now | Quote }}}
      containerStatuses:
      {{ range .spec.containers }}
      {{ if $pull }}
      - name: {{ .name | Quote }}
        image: {{ .image | Quote }}
        ready: false
        started: false
        restartCount: 0
        state: {waiting: {reason: {{ $reason | Quote }}, message: {{ printf "Back-off pulling image %q (simulated)" .image | Quote }}}}
      {{ else }}
      - name: {{ .name | Quote }}
        image: {{ .image | Quote }}
        ready: false
        started: false
        restartCount: 3
        state: {waiting: {reason: {{ $reason | Quote }}, message: "back-off restarting failed container (simulated)"}}
        lastState: {terminated: {exitCode: 1, reason: Error, startedAt: {{ $now | Quote }}, finishedAt: {{ $now | Quote }}}}
      {{ end }}
      {{ end }}
YAML
}

cmd_up() {
  cmd_build
  rm -rf "$DIR/pki" "$DIR/etcd" "$DIR/pids" "$DIR/stages"
  mkdir -p "$DIR/pki" "$DIR/logs" "$DIR/pids" "$DIR/stages" "$DIR/etcd"
  chmod 700 "$DIR" "$DIR/pki"
  # Throw-away credentials: a CA, the apiserver's serving certificate, the service-account
  # signing key, and client certificates (admin in system:masters; `nobody` with no rights).
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/CN=openstage-test-ca" \
    -keyout "$DIR/pki/ca.key" -out "$DIR/pki/ca.crt" 2>/dev/null
  cert apiserver "/CN=kube-apiserver" "IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc"
  cert admin "/O=system:masters/CN=openstage-admin"
  cert nobody "/CN=openstage-nobody"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$DIR/pki/sa.key" 2>/dev/null
  openssl pkey -in "$DIR/pki/sa.key" -pubout -out "$DIR/pki/sa.pub" 2>/dev/null

  local etcd_port etcd_peer
  etcd_port="$(free_port)"; etcd_peer="$(free_port)"; APISERVER_PORT="$(free_port)"
  echo "$APISERVER_PORT" >"$DIR/apiserver-port"
  kubeconfig "$DIR/kubeconfig" admin
  kubeconfig "$DIR/kubeconfig-nobody" nobody
  write_stages

  start etcd "$ETCD_DIR/etcd" --name default --data-dir "$DIR/etcd" --log-level warn \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
    --initial-cluster "default=http://127.0.0.1:$etcd_peer" \
    --quota-backend-bytes 1073741824 --unsafe-no-fsync
  wait_for etcd 60 curl -sf "http://127.0.0.1:$etcd_port/health"

  start kube-apiserver "$K8S_DIR/kube-apiserver" --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$APISERVER_PORT" \
    --cert-dir "$DIR/pki" --tls-cert-file "$DIR/pki/apiserver.crt" --tls-private-key-file "$DIR/pki/apiserver.key" \
    --client-ca-file "$DIR/pki/ca.crt" --authorization-mode Node,RBAC \
    --service-account-issuer https://kubernetes.default.svc --service-account-key-file "$DIR/pki/sa.pub" \
    --service-account-signing-key-file "$DIR/pki/sa.key" --service-cluster-ip-range 10.96.0.0/16 \
    --service-node-port-range 30000-32767 --allow-privileged --profiling=false --endpoint-reconciler-type none
  wait_for kube-apiserver 120 "$K8S_DIR/kubectl" --kubeconfig "$DIR/kubeconfig" get --raw /readyz

  start kube-controller-manager "$K8S_DIR/kube-controller-manager" --kubeconfig "$DIR/kubeconfig" \
    --secure-port 0 --leader-elect=false --use-service-account-credentials=false \
    --service-account-private-key-file "$DIR/pki/sa.key" --root-ca-file "$DIR/pki/ca.crt" \
    --cluster-signing-cert-file "$DIR/pki/ca.crt" --cluster-signing-key-file "$DIR/pki/ca.key" --profiling=false
  start kube-scheduler "$K8S_DIR/kube-scheduler" --kubeconfig "$DIR/kubeconfig" --secure-port 0 --leader-elect=false --profiling=false
  start kwok "$KWOK_DIR/kwok" --kubeconfig "$DIR/kubeconfig" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
    --node-ip 127.0.0.1 --cidr 10.244.0.1/16 --node-lease-duration-seconds 40 \
    --config "$KWOK_DIR/stage/node/fast/node-initialize.yaml" \
    --config "$KWOK_DIR/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml" \
    --config "$DIR/stages/openstage-pod.yaml" --config "$KWOK_DIR/stage/pod/fast/pod-delete.yaml"

  # Two simulated nodes in two zones (affinity rules have something to choose between).
  local n
  for n in 0 1; do
    "$K8S_DIR/kubectl" --kubeconfig "$DIR/kubeconfig" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$n
  annotations: {kwok.x-k8s.io/node: fake}
  labels: {type: kwok, kubernetes.io/hostname: kwok-node-$n, kubernetes.io/os: linux, topology.kubernetes.io/zone: zone-$n}
YAML
  done
  wait_for "simulated nodes" 60 "$K8S_DIR/kubectl" --kubeconfig "$DIR/kubeconfig" wait --for=condition=Ready node --all --timeout=1s
  # Pods are admitted only once the namespace's default service account exists.
  wait_for "default service account" 60 "$K8S_DIR/kubectl" --kubeconfig "$DIR/kubeconfig" get serviceaccount default
  log "up: $DIR/kubeconfig (apiserver https://127.0.0.1:$APISERVER_PORT)"
}

cmd_down() {
  local i c pid deadline
  for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
    c="${COMPONENTS[$i]}"
    alive "$c" || { rm -f "$DIR/pids/$c"; continue; }
    pid="$(cat "$DIR/pids/$c")"
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 15))
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$DIR/pids/$c"
  done
  log "down: $DIR"
}

case "${1:-}" in
  build) cmd_build ;;
  kubectl-path) echo "$K8S_DIR/kubectl" ;;
  up | down)
    [ -n "${2:-}" ] || { echo "usage: $0 $1 DIR" >&2; exit 2; }
    mkdir -p "$2"
    DIR="$(cd "$2" && pwd)"
    if [ "$1" = up ]; then
      for c in "${COMPONENTS[@]}"; do if alive "$c"; then log "$DIR already runs $c; run down first"; exit 1; fi; done
      # A start that fails half-way stops what it started.
      trap 'log "up failed; stopping what started"; cmd_down' EXIT
      cmd_up
      trap - EXIT
    else
      cmd_down
    fi
    ;;
  *) echo "usage: $0 build | up DIR | down DIR | kubectl-path" >&2; exit 2 ;;
esac
