#!/usr/bin/env bash
# The ServiceComb Java Chassis walk-through (examples/servicecomb-java/README.md), through
# OpenStage's public APIs only: environment, application, application configuration, config
# file, a git repository hosted by OpenStage, two components built with Maven by the
# deployment engine, then config change, scale, upgrade + rollback, a SIGKILLed provider
# (its instance leaves the registry when its lease ends) and stop.
#
# Usage: against a running `openstage serve --auth none` (a fresh data directory is best):
#   OPENSTAGE_URL=http://127.0.0.1:30100 examples/servicecomb-java/walkthrough.sh
# With IAM on, also set OPENSTAGE_TOKEN (an X-Auth-Token) and OPENSTAGE_PROJECT.
# STEPS=basic stops after the first consumer call. Needs curl, git, node and ss (iproute2) on the PATH.
# Names are unique per project: to run it again against the same server, first remove what a
# run made with --cleanup, or pick another application name (DEMO_APP=sc-demo2; the git
# authorization is reused).
#   examples/servicecomb-java/walkthrough.sh --cleanup   deletes the components (their replicas
#   stop), the config center kv, the config file and group, the application, the environment and
#   the git authorization of DEMO_APP; the hosted repositories stay (the Git API deletes none;
#   a later run pushes to them again).
set -euo pipefail

CLEANUP=0
for arg in "$@"; do
  case $arg in
    --cleanup) CLEANUP=1 ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) printf 'unknown argument %s (--cleanup, --help)\n' "$arg" >&2; exit 2 ;;
  esac
done

U=${OPENSTAGE_URL:-http://127.0.0.1:30100}
HERE=$(cd "$(dirname "$0")" && pwd)
NAME=${DEMO_APP:-sc-demo}          # application name = the ServiceComb appId
GIT_USER=${DEMO_GIT_USER:-demo}
GIT_PASS=${DEMO_GIT_PASS:-Demo-pass-1}
STEPS=${STEPS:-all}
T0=$(date +%s)

say() { printf '\n\033[1m[%3ss] %s\033[0m\n' "$(($(date +%s) - T0))" "$*"; }
die() { printf 'FAILED: %s\n' "$*" >&2; exit 1; }

# jget PATH: prints a field of the JSON on stdin (dot path, numeric parts index arrays).
jget() {
  node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>{if(!s.trim())process.exit(1);let v=JSON.parse(s);
    for(const k of process.argv[1].split(".")){if(v==null)break;v=v[k];}
    process.stdout.write(v==null?"":typeof v==="object"?JSON.stringify(v):String(v));});' "$1"
}

# api METHOD PATH [BODY] [extra curl args...]: the answer body; exits on an HTTP error.
api() {
  local method=$1 path=$2 body=${3:-}; shift 3 2>/dev/null || shift $#
  local extra=() out code
  [ -n "${OPENSTAGE_TOKEN:-}" ] && extra+=(-H "X-Auth-Token: $OPENSTAGE_TOKEN")
  [ -n "$body" ] && extra+=(--data-binary "$body")
  out=$(curl -sS -X "$method" "$U$path" -H 'Content-Type: application/json' "${extra[@]}" "$@" \
    -w '\n%{http_code}') || die "$method $path: curl failed"
  code=${out##*$'\n'}; out=${out%$'\n'*}
  [[ $code == 2* ]] || die "$method $path → $code $out"
  printf '%s' "$out"
}

# progress_lines: "  · task: STATUS — last message" per started task of the job detail on stdin.
progress_lines() {
  node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>{for(const t of JSON.parse(s).tasks||[]){
    if(t.task_status==="PENDING")continue;const m=String(t.messages||"").split("\n").filter(Boolean).pop()||"";
    console.log(`    · ${t.task_name}: ${t.task_status}${m?" — "+m.slice(0,140):""}`)}})'
}

# wait_job JOB_ID: polls the job until it ends, printing each task's progress as it changes;
# exits when it did not succeed.
wait_job() {
  local id=$1 start=$(date +%s) detail status lines shown=""
  while :; do
    detail=$(api GET "/v3/$P/cas/jobs/$id")
    status=$(jget job.execution_status <<<"$detail")
    lines=$(progress_lines <<<"$detail")
    # Only the lines that changed since the last poll.
    if [ -n "$lines" ]; then grep -vxF -f <(printf '%s\n' "$shown") <<<"$lines" || true; fi
    shown=$lines
    [ "$status" != RUNNING ] && break
    sleep 2
  done
  printf '  job %s: %s in %ss\n' "$id" "$status" "$(($(date +%s) - start))"
  [ "$status" = SUCCEEDED ] || { node -e 'const d=JSON.parse(process.argv[1]);for(const t of d.tasks)console.error(t.task_name,t.task_status,t.messages)' "$detail"; die "job $id $status"; }
}

# port_of COMPONENT_ID: the local port of the first running replica.
port_of() { api GET "/v3/$P/cas/applications/$APP/components/$1" | jget status.instances.0.port; }

# call: one call of the consumer, compact JSON.
call() { curl -sS "http://127.0.0.1:$CPORT/call?name=OpenStage"; }

# until_answer WHAT JS_CONDITION [SECONDS]: repeats call until the condition on `a` (the
# consumer's answer) holds; prints the answer.
until_answer() {
  local what=$1 cond=$2 limit=${3:-60} start=$(date +%s) a
  while :; do
    a=$(call 2>/dev/null || true)
    if [ -n "$a" ] && node -e "const a=JSON.parse(process.argv[1]); process.exit(($cond)?0:1)" "$a" 2>/dev/null; then
      printf '  %s\n' "$a"; return 0
    fi
    (( $(date +%s) - start < limit )) || die "$what: last answer $a"
    sleep 1
  done
}

# provider_instances: "instanceId port" per instance of "provider" (every version) of this
# application in the registry.
provider_instances() { curl -sS "$U/v4/default/registry/instances?appId=$NAME&serviceName=provider&version=0.0.0%2B" | node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>{const v=s?JSON.parse(s):{};for(const i of v.instances||[]){const e=(i.endpoints||[]).find((x)=>x.startsWith("rest://"))||"";console.log(i.instanceId+" "+(e.match(/:(\d+)/g)||[""]).pop().slice(1))}})'; }
# providers: how many provider instances the registry has.
providers() { provider_instances | grep -c . || true; }

# spread_over N JS_CONDITION: repeats 9 calls until N different provider ports answered them
# (each answer must pass the condition); prints the ports.
spread_over() {
  local n=$1 cond=$2 start=$(date +%s) seen
  while :; do
    seen=$( (for _ in 1 2 3 4 5 6 7 8 9; do a=$(call) && node -e "const a=JSON.parse(process.argv[1]); if(!($cond)) process.exit(1); console.log(a.provider.port)" "$a" || echo bad; done) | sort -u | tr '\n' ' ')
    [[ $seen != *bad* ]] && [ "$(wc -w <<<"$seen")" -ge "$n" ] && break
    (( $(date +%s) - start < 60 )) || die "calls did not spread over $n providers: $seen"
    sleep 2
  done
  echo "  9 calls answered by ports: $seen"
}

say "project"
for _ in $(seq 1 30); do curl -sf -o /dev/null "$U/version" && break; sleep 1; done
P=${OPENSTAGE_PROJECT:-}
if [ -z "$P" ]; then PROJECTS=$(api GET /v3/auth/projects); P=$(jget projects.0.id <<<"$PROJECTS"); fi
echo "  $P"

# id_named LIST_JSON_FIELD NAME: the id of the item named NAME in the list on stdin (empty if none).
id_named() { node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>{const v=JSON.parse(s);
  const i=(v[process.argv[1]]||[]).find((x)=>x.name===process.argv[2]);process.stdout.write(i?i.id:"")})' "$1" "$2"; }

if [ "$CLEANUP" = 1 ]; then
  say "cleanup: what a run with DEMO_APP=$NAME made"
  APP=$(api GET "/v3/$P/cas/applications" | id_named applications "$NAME")
  if [ -n "$APP" ]; then
    for c in $(api GET "/v3/$P/cas/applications/$APP/components" | node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>{for(const c of JSON.parse(s).components||[])console.log(c.id+"/"+c.name)})'); do
      api DELETE "/v3/$P/cas/applications/$APP/components/${c%%/*}" >/dev/null; echo "  component ${c#*/}: deleting (its replicas stop)"
    done
    start=$(date +%s)
    until [ "$(api GET "/v3/$P/cas/applications/$APP/components" | jget count)" = 0 ]; do
      (( $(date +%s) - start < 180 )) || die "components still being deleted after 180 s"
      sleep 2
    done
  fi
  for kv in $(curl -sS "$U/v1/default/kie/kv?key=greeting.message&label=app:$NAME" | node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>{for(const k of (s?JSON.parse(s):{}).data||[])console.log(k.id)})'); do
    api DELETE "/v1/default/kie/kv/$kv" >/dev/null; echo "  config center kv greeting.message deleted"
  done
  GROUP=$(api GET "/v3/$P/cas/config-groups" | id_named config_groups "$NAME-config")
  if [ -n "$GROUP" ]; then
    for cfg in $(api GET "/v3/$P/cas/configs?config_group_id=$GROUP" | node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>{for(const c of JSON.parse(s).configs||[])console.log(c.id)})'); do
      api DELETE "/v3/$P/cas/configs/$cfg" >/dev/null
    done
    api DELETE "/v3/$P/cas/config-groups/$GROUP" >/dev/null; echo "  config group $NAME-config and its files deleted"
  fi
  [ -n "$APP" ] && { api DELETE "/v3/$P/cas/applications/$APP" >/dev/null; echo "  application $NAME deleted"; }
  ENV_ID=$(api GET "/v3/$P/cas/environments" | id_named environments "$NAME-env")
  [ -n "$ENV_ID" ] && { api DELETE "/v3/$P/cas/environments/$ENV_ID" >/dev/null; echo "  environment $NAME-env deleted"; }
  if api GET "/v1/$P/git/auths" | node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>{process.exit((JSON.parse(s).authorizations||[]).some((a)=>a.name===process.argv[1])?0:1)})' "$GIT_USER"; then
    api DELETE "/v1/$P/git/auths/$GIT_USER" >/dev/null; echo "  git authorization $GIT_USER deleted"
  fi
  echo "  the hosted repositories $NAME/provider, $NAME/consumer and $NAME/node-caller stay (a later run reuses them)"
  say "cleanup done"
  exit 0
fi

say "environment with this machine and the built-in engine bound"
ENV_ID=$(api POST "/v3/$P/cas/environments" "{\"name\":\"$NAME-env\",\"deploy_mode\":\"virtualmachine\"}" | jget id)
api PUT "/v3/$P/cas/environments/$ENV_ID/resources" '{"resources":[{"id":"local","type":"ecs"},{"id":"default","type":"cse"}]}' >/dev/null
echo "  environment $ENV_ID"

say "application $NAME and its configuration (APP_STAGE) in the environment"
APP=$(api POST "/v3/$P/cas/applications" "{\"name\":\"$NAME\"}" | jget id)
api PUT "/v3/$P/cas/applications/$APP/configuration" \
  "{\"environment_id\":\"$ENV_ID\",\"configuration\":{\"env\":[{\"name\":\"APP_STAGE\",\"value\":\"walkthrough\"}]}}" >/dev/null
echo "  application $APP"

say "config file provider-yaml (mounted into the provider at /config/provider.yaml)"
GROUP=$(api POST "/v3/$P/cas/config-groups" "{\"name\":\"$NAME-config\"}" | jget id)
CONFIG=$(api POST "/v3/$P/cas/configs" "{\"config_group_id\":\"$GROUP\",\"name\":\"provider-yaml\",\"type\":\"yaml\",
  \"content\":\"greeting:\\n  message: Hello from the config file of \${CAS_APPLICATION_NAME}\\n\"}" | jget id)
echo "  config $CONFIG"

say "git: an authorization for OpenStage's own host, two repositories, two pushes"
# (an earlier run's authorization of the same name is reused)
if ! api GET "/v1/$P/git/auths" | node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>{const v=JSON.parse(s);process.exit((v.authorizations||[]).some((a)=>a.name===process.argv[1])?0:1)})' "$GIT_USER"; then
  api POST "/v1/$P/git/auths/local/password" \
    "{\"name\":\"$GIT_USER\",\"token\":\"$(printf '%s:%s' "$GIT_USER" "$GIT_PASS" | base64)\"}" >/dev/null
fi
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
# clone_url_of REPO: the clone URL of $NAME/REPO, created when missing (a run after --cleanup
# finds the repositories an earlier run made; its pushes replace their main branch).
clone_url_of() {
  local url auth=()
  [ -n "${OPENSTAGE_TOKEN:-}" ] && auth=(-H "X-Auth-Token: $OPENSTAGE_TOKEN")
  url=$(curl -sS "$U/v1/$P/git/repos/$NAME/projects" -H "X-Repo-Auth: $GIT_USER" "${auth[@]}" 2>/dev/null | node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>{
    const p=(JSON.parse(s).projects||[]).find((x)=>x.name===process.argv[1]);process.stdout.write(p?p.clone_url:"")})' "$1" 2>/dev/null || true)
  [ -n "$url" ] || url=$(api POST "/v1/$P/git/repos/$NAME/projects" "{\"name\":\"$1\"}" -H "X-Repo-Auth: $GIT_USER" | jget clone_url)
  printf '%s' "$url"
}
declare -A CLONE
for m in provider consumer; do
  CLONE[$m]=$(clone_url_of "$m")
  cp -r "$HERE/$m" "$WORK/$m"; rm -rf "$WORK/$m/target"
  ( cd "$WORK/$m" && git init -q -b main && git add . \
    && git -c user.name=demo -c user.email=demo@example.com commit -qm "$m 1.0.0" \
    && git push -q --force "${CLONE[$m]/:\/\//://$GIT_USER:$GIT_PASS@}" main )
  echo "  ${CLONE[$m]}"
done

component_body() { # NAME VERSION [EXTRA_FIELDS]
  printf '{"name":"%s","version":"%s","replica":1,"environment_id":"%s","refer_resources":[],
    "runtime_stack":{"name":"OpenJDK17","type":"Java","version":"1.0.0","deploy_mode":"virtualmachine"},
    "source":{"kind":"code","repo_url":"%s","repo_ref":"main","repo_auth":"%s"},
    "readiness_probe":{"type":"http","path":"/health","timeout":2}%s}' \
    "$1" "$2" "$ENV_ID" "${CLONE[$1]}" "$GIT_USER" "${3:+,$3}"
}
# The provider mounts the config file, and heartbeats every $HEARTBEAT s (its application.yml
# reads SC_HEARTBEAT_SECONDS; 15 s by default) so that a killed instance's lease is short.
HEARTBEAT=${DEMO_HEARTBEAT_SECONDS:-5}
PROVIDER_EXTRA="\"storages\":[{\"type\":\"ConfigMap\",\"parameters\":{\"config_id\":\"$CONFIG\"},\"mounts\":[{\"path\":\"/config/provider.yaml\"}]}],
    \"envs\":[{\"name\":\"SC_HEARTBEAT_SECONDS\",\"value\":\"$HEARTBEAT\"}]"

say "components provider and consumer from source (Java, built with Maven by the engine)"
R=$(api POST "/v3/$P/cas/applications/$APP/components" "$(component_body provider 1.0.0 "$PROVIDER_EXTRA")")
PROVIDER=$(jget component_id <<<"$R"); PJOB=$(jget job_id <<<"$R")
R=$(api POST "/v3/$P/cas/applications/$APP/components" "$(component_body consumer 1.0.0)")
CONSUMER=$(jget component_id <<<"$R"); CJOB=$(jget job_id <<<"$R")
echo "  provider $PROVIDER (job $PJOB), consumer $CONSUMER (job $CJOB)"
wait_job "$PJOB"; wait_job "$CJOB"
CPORT=$(port_of "$CONSUMER")

say "the consumer calls the provider by name (discovery through OpenStage's registry)"
echo "  curl http://127.0.0.1:$CPORT/call?name=OpenStage"
until_answer "first call" 'a.provider.version==="1.0.0" && a.provider.stage==="walkthrough"' 60
[ "$STEPS" = basic ] && { say "done (STEPS=basic)"; exit 0; }

say "a second stack: node-caller (plain Node.js, registry REST API by hand) finds the Java provider"
CLONE[node-caller]=$(clone_url_of node-caller)
cp -r "$HERE/../servicecomb-node" "$WORK/node-caller"; rm -rf "$WORK/node-caller/node_modules"
( cd "$WORK/node-caller" && git init -q -b main && git add . \
  && git -c user.name=demo -c user.email=demo@example.com commit -qm "node-caller 1.0.0" \
  && git push -q --force "${CLONE[node-caller]/:\/\//://$GIT_USER:$GIT_PASS@}" main )
R=$(api POST "/v3/$P/cas/applications/$APP/components" "{\"name\":\"node-caller\",\"version\":\"1.0.0\",\"replica\":1,
  \"environment_id\":\"$ENV_ID\",\"refer_resources\":[],
  \"runtime_stack\":{\"name\":\"Nodejs20\",\"type\":\"Nodejs\",\"version\":\"1.0.0\",\"deploy_mode\":\"virtualmachine\"},
  \"source\":{\"kind\":\"code\",\"repo_url\":\"${CLONE[node-caller]}\",\"repo_ref\":\"main\",\"repo_auth\":\"$GIT_USER\"},
  \"readiness_probe\":{\"type\":\"http\",\"path\":\"/health\",\"timeout\":2}}")
NODE_CALLER=$(jget component_id <<<"$R")
echo "  component $NODE_CALLER (Nodejs20: npm ci, npm start)"
wait_job "$(jget job_id <<<"$R")"
NPORT=$(port_of "$NODE_CALLER")
echo "  curl http://127.0.0.1:$NPORT/call?name=OpenStage"
start=$(date +%s)
while :; do
  a=$(curl -sS "http://127.0.0.1:$NPORT/call?name=OpenStage" 2>/dev/null || true)
  if [ -n "$a" ] && node -e 'const a=JSON.parse(process.argv[1]); process.exit(a.caller==="node-caller" && a.provider && a.provider.service==="provider" && a.provider.stage==="walkthrough" ? 0 : 1)' "$a" 2>/dev/null; then
    printf '  %s\n' "$a"; break
  fi
  (( $(date +%s) - start < 60 )) || die "node-caller call: last answer $a"
  sleep 1
done

say "config center: greeting.message for the provider (labels app, service, environment)"
KV=$(api POST /v1/default/kie/kv "{\"key\":\"greeting.message\",\"value\":\"Hi from the config center\",\"status\":\"enabled\",
  \"labels\":{\"app\":\"$NAME\",\"service\":\"provider\",\"environment\":\"\"}}" | jget id)
until_answer "config change" 'a.provider.message==="Hi from the config center"' 30
api PUT "/v1/default/kie/kv/$KV" '{"value":"Bonjour"}' >/dev/null
until_answer "second config change" 'a.provider.message==="Bonjour"' 30

say "scale the provider to 3 replicas"
wait_job "$(api POST "/v3/$P/cas/applications/$APP/components/$PROVIDER/action" '{"action":"scale","parameters":{"replica":3}}' | jget job_id)"
echo "  provider instances in the registry: $(providers)"
spread_over 3 'a.provider.message==="Bonjour"'

say "upgrade the provider to 1.1.0, then roll back to 1.0.0"
R=$(component_body provider 1.1.0 "$PROVIDER_EXTRA" | sed 's/"replica":1/"replica":3/')
wait_job "$(api PUT "/v3/$P/cas/applications/$APP/components/$PROVIDER" "$R" | jget job_id)"
until_answer "1.1.0 answers" 'a.provider.version==="1.1.0"' 60
wait_job "$(api POST "/v3/$P/cas/applications/$APP/components/$PROVIDER/action" '{"action":"rollback","parameters":{"version":"1.0.0"}}' | jget job_id)"
until_answer "1.0.0 answers after the rollback" 'a.provider.version==="1.0.0"' 60
spread_over 3 'a.provider.version==="1.0.0"'

say "SIGKILL one provider JVM: no deregistration, its instance leaves when its lease ends"
VICTIM=$(provider_instances | head -1); VPORT=${VICTIM#* }; VID=${VICTIM%% *}
VPID=$(ss -ltnpH "sport = :$VPORT" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1)
[ -n "$VPID" ] || die "no process listens on $VPORT"
kill -9 "$VPID"; KILLED=$(date +%s)
echo "  kill -9 $VPID (instance $VID on port $VPORT); still registered: $(provider_instances | grep -c "^$VID " || true)"
while provider_instances | grep -q "^$VID "; do
  (( $(date +%s) - KILLED < 180 )) || die "instance $VID still registered after 180 s"
  sleep 1
done
echo "  instance $VID left the registry after $(($(date +%s) - KILLED))s (lease: ${HEARTBEAT}s x (3 + 1))"
start=$(date +%s)
until [ "$(providers)" = 3 ]; do
  (( $(date +%s) - start < 180 )) || die "the killed replica did not come back"
  sleep 2
done
echo "  the engine restarted the replica: provider instances in the registry: $(providers)"

say "stop the provider: its instances deregister as they stop"
wait_job "$(api POST "/v3/$P/cas/applications/$APP/components/$PROVIDER/action" '{"action":"stop"}' | jget job_id)"
echo "  provider instances in the registry: $(providers)"
[ "$(providers)" = 0 ] || die "instances left after the stop"

say "done: the consumer still runs on port $CPORT; the provider is stopped"
