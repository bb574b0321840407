#!/usr/bin/env bash
# The demo cluster: `make demo` runs `deploy/demo.sh up`, `make demo-down`
# runs `deploy/demo.sh down`. Both can be run again at any time.
#
#   up    build the image, the busybox image and the WebAssembly example,
#         make the cluster's certificates and gossip key (shoal tls, into
#         SHOAL_DEMO_DATA/tls), start the cluster with TLS on every
#         connection and encrypted gossip (deploy/docker-compose.yml), wait until every
#         container is healthy, run a WebAssembly job and a Docker job, and
#         print what to try next
#   down  remove the containers, the network, the volumes and the data folder
#
# Settings come from the environment (the Makefile passes its own):
#   SHOAL_BIN        the shoal binary, statically linked (bin/shoal)
#   SHOAL_IMAGE      tag of the shoal image (shoal:latest)
#   SHOAL_BUSYBOX    tag of the busybox image for Docker jobs (shoal-demo/busybox:latest)
#   SHOAL_WASM       where the example module is built (bin/hello.wasm)
#   SHOAL_PROJECT    the Compose project name (shoal-demo)
#   SHOAL_DEMO_DATA  host folder for the compute nodes' work (/tmp/shoal-demo)
#   SHOAL_DEMO_ACL   true (default): replicas run with --acl, and up bootstraps
#                    the tokens into SHOAL_DEMO_DATA/tls/acl.env
#   SHOAL_O1_PORT, SHOAL_O2_PORT, SHOAL_O3_PORT  the APIs' host ports (1234 2234 3234)
#   SHOAL_PROM_IMAGE the Prometheus image, built from Debian's package
#                    (shoal-demo/prometheus:latest)
#   SHOAL_PROM_PORT  Prometheus's host port (9090)
#   COMPOSE          the Compose command (docker compose, else docker-compose)
set -euo pipefail

cd "$(dirname "$0")/.."

bin=${SHOAL_BIN:-bin/shoal}
export SHOAL_IMAGE=${SHOAL_IMAGE:-shoal:latest}
busybox_image=${SHOAL_BUSYBOX:-shoal-demo/busybox:latest}
wasm=${SHOAL_WASM:-bin/hello.wasm}
project=${SHOAL_PROJECT:-shoal-demo}
export SHOAL_DEMO_DATA=${SHOAL_DEMO_DATA:-/tmp/shoal-demo}
export SHOAL_O1_PORT=${SHOAL_O1_PORT:-1234} SHOAL_O2_PORT=${SHOAL_O2_PORT:-2234} SHOAL_O3_PORT=${SHOAL_O3_PORT:-3234}
export SHOAL_PROM_IMAGE=${SHOAL_PROM_IMAGE:-shoal-demo/prometheus:latest} SHOAL_PROM_PORT=${SHOAL_PROM_PORT:-9090}
api_hosts="https://127.0.0.1:$SHOAL_O1_PORT,https://127.0.0.1:$SHOAL_O2_PORT,https://127.0.0.1:$SHOAL_O3_PORT"
tls_dir=$SHOAL_DEMO_DATA/tls
# What the containers see (deploy/docker-compose.yml mounts tls_dir at /tls).
export SHOAL_DEMO_SCHEME=https SHOAL_DEMO_CA=/tls/shoal-agent-ca.pem \
  SHOAL_DEMO_SERVER_CERT=/tls/server-shoal.pem SHOAL_DEMO_SERVER_KEY=/tls/server-shoal-key.pem \
  SHOAL_DEMO_COMPUTE_CERT=/tls/compute-shoal.pem SHOAL_DEMO_COMPUTE_KEY=/tls/compute-shoal-key.pem
# What this script's CLI uses, and what the tour tells the user to export.
export SHOAL_CA_CERT=$tls_dir/shoal-agent-ca.pem SHOAL_CLIENT_CERT=$tls_dir/cli-shoal.pem SHOAL_CLIENT_KEY=$tls_dir/cli-shoal-key.pem
compose_file=deploy/docker-compose.yml
export SHOAL_DEMO_ACL=${SHOAL_DEMO_ACL:-true}
acl_env=$tls_dir/acl.env

if [ -z "${COMPOSE:-}" ]; then
  if docker compose version >/dev/null 2>&1; then COMPOSE="docker compose"; else COMPOSE=docker-compose; fi
fi
# shellcheck disable=SC2206 # COMPOSE is one or two words
compose=($COMPOSE -p "$project" -f "$compose_file")

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

require_docker() {
  docker info >/dev/null 2>&1 || die "the Docker engine does not answer (is it running, and may you use it?)"
  "${compose[@]}" version >/dev/null 2>&1 || die "no Docker Compose: install docker-compose (apt-get install docker-compose) or the compose plugin"
}

# ensure_busybox makes sure a statically linked busybox is here, installing
# Debian's busybox-static when it can. It fails quietly: the Docker job is
# then skipped, with the reason.
ensure_busybox() {
  [ -x /usr/bin/busybox ] && return 0
  if command -v apt-get >/dev/null 2>&1; then
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    say "Installing busybox-static (for the Docker job's image)"
    $sudo apt-get install -y -qq busybox-static >/dev/null 2>&1 ||
      { $sudo apt-get update -qq >/dev/null 2>&1 && $sudo apt-get install -y -qq busybox-static >/dev/null 2>&1; } ||
      return 1
  fi
  [ -x /usr/bin/busybox ]
}

# ensure_prometheus makes sure Debian's prometheus package is here (the
# demo's Prometheus image is built from it), installing it when it can.
ensure_prometheus() {
  command -v prometheus >/dev/null 2>&1 && return 0
  if command -v apt-get >/dev/null 2>&1; then
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    say "Installing prometheus (for the demo's Prometheus image)"
    $sudo apt-get install -y -qq prometheus >/dev/null 2>&1 ||
      { $sudo apt-get update -qq >/dev/null 2>&1 && $sudo apt-get install -y -qq prometheus >/dev/null 2>&1; } ||
      return 1
  fi
  command -v prometheus >/dev/null 2>&1
}

# wait_prometheus waits until Prometheus answers and has scraped every
# replica and compute node once.
wait_prometheus() {
  local deadline=$((SECONDS + 90)) url="http://127.0.0.1:$SHOAL_PROM_PORT"
  until curl -fsS "$url/api/v1/query?query=count(up%3D%3D1)" 2>/dev/null | grep -q '"value":\[[^,]*,"6"\]'; do
    [ "$SECONDS" -lt "$deadline" ] || { "${compose[@]}" logs --tail 30 prometheus >&2 || true; die "Prometheus did not scrape all six targets within 90s"; }
    sleep 2
  done
}

# wait_healthy waits until every container of the project is healthy: the
# replicas answer, and each compute node has registered with the cluster
# (which needs an elected leader).
wait_healthy() {
  local deadline=$((SECONDS + 180)) ids="" states=""
  while :; do
    ids=$("${compose[@]}" ps -q o1 o2 o3 c1 c2 c3)
    if [ -n "$ids" ]; then
      # shellcheck disable=SC2086 # one word per container ID
      states=$(docker inspect --format '{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}' $ids)
      if [ "$(wc -l <<<"$states")" -eq 6 ] && ! grep -qv ' running healthy$' <<<"$states"; then
        return 0
      fi
      if grep -qE ' (exited|dead) ' <<<"$states"; then
        "${compose[@]}" logs --tail 30 >&2 || true
        die "a container stopped: $(grep -E ' (exited|dead) ' <<<"$states" | cut -d' ' -f1 | tr '\n' ' ')"
      fi
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      printf '%s\n' "$states" >&2
      "${compose[@]}" logs --tail 30 >&2 || true
      die "the cluster did not become healthy within 3 minutes"
    fi
    sleep 2
  done
}

# make_tls makes the CA, one certificate per role and the gossip key, once:
# a second make demo reuses them (shoal tls never overwrites).
# make_prom_config writes the demo's Prometheus configuration into
# SHOAL_DEMO_DATA/prometheus: deploy/prometheus's, scraping over TLS (the
# CLI's certificate, peers checked by the role their certificate names) with
# the read token bootstrap_acl leaves in tls/prometheus.token.
make_prom_config() {
  local dir=$SHOAL_DEMO_DATA/prometheus
  mkdir -p "$dir"
  cp deploy/prometheus/alerts.yml "$dir/alerts.yml"
  awk -v token=/tls/prometheus.token '
    /- job_name: shoal-replicas/ { role = "server.shoal" }
    /- job_name: shoal-compute/  { role = "compute.shoal" }
    { print }
    /- job_name: / {
      print "    scheme: https"
      print "    tls_config: {ca_file: /tls/shoal-agent-ca.pem, cert_file: /tls/cli-shoal.pem, key_file: /tls/cli-shoal-key.pem, server_name: " role "}"
      print "    authorization: {credentials_file: " token "}"
    }' deploy/prometheus/prometheus.yml >"$dir/prometheus.yml"
  # Prometheus refuses a missing token file; it reads the file at every
  # scrape, so the token can arrive once ACLs are bootstrapped.
  [ -e "$tls_dir/prometheus.token" ] || (umask 077 && : >"$tls_dir/prometheus.token")
  export SHOAL_PROM_CONFIG_DIR=$dir
}

make_tls() {
  local shoal=$bin
  [[ $shoal == /* ]] || shoal=$PWD/$shoal
  mkdir -p "$tls_dir"
  if [ ! -f "$tls_dir/shoal-agent-ca.pem" ]; then
    say "Making the cluster's certificates in $tls_dir (shoal tls)"
    # Replicas are reached as o1..o3 inside the network and 127.0.0.1 from
    # here; server certificates carry localhost and 127.0.0.1 already.
    (cd "$tls_dir" &&
      "$shoal" tls ca create &&
      "$shoal" tls cert create --server --additional-dnsname o1 --additional-dnsname o2 --additional-dnsname o3 &&
      "$shoal" tls cert create --compute --additional-dnsname c1 --additional-dnsname c2 --additional-dnsname c3 &&
      "$shoal" tls cert create --cli) | sed 's/^/    /'
  fi
  if [ ! -s "$tls_dir/gossip.key" ]; then
    (umask 077 && head -c 32 /dev/urandom | base64 >"$tls_dir/gossip.key")
  fi
  SHOAL_DEMO_GOSSIP_KEY=$(cat "$tls_dir/gossip.key")
  export SHOAL_DEMO_GOSSIP_KEY
}

# token_of prints the SecretID of a token the CLI printed as JSON.
token_of() { sed -n 's/.*"SecretID": *"\([^"]*\)".*/\1/p'; }

# new_token creates a token and prints its SecretID.
new_token() { "$bin" --api-host "$api_hosts" acl token create --output json "$@" | token_of; }

# bootstrap_acl makes the management token (once: a cluster bootstraps only
# once) and a read, a submit and a node token, keeps them in acl.env, and
# exports them: SHOAL_TOKEN for this script's CLI, the node and read tokens
# for the compute nodes' containers.
bootstrap_acl() {
  if [ -s "$acl_env" ]; then
    # shellcheck disable=SC1090 # written by this function
    . "$acl_env"
    export SHOAL_TOKEN SHOAL_DEMO_READ_TOKEN SHOAL_DEMO_SUBMIT_TOKEN SHOAL_DEMO_NODE_TOKEN
    if "$bin" --api-host "$api_hosts" acl token self >/dev/null 2>&1; then
      return 0
    fi
    rm -f "$acl_env"
  fi
  say "Bootstrapping ACLs: shoal acl bootstrap, then read, submit and node tokens"
  local deadline=$((SECONDS + 120)) out=""
  until out=$("$bin" --api-host "$api_hosts" acl bootstrap --output json 2>&1); do
    if grep -q ACLAlreadyBootstrapped <<<"$out"; then
      die "the cluster is bootstrapped but $acl_env is gone: make demo-down, then make demo"
    fi
    [ "$SECONDS" -lt "$deadline" ] || die "acl bootstrap: $out"
    sleep 2
  done
  SHOAL_TOKEN=$(token_of <<<"$out")
  export SHOAL_TOKEN
  SHOAL_DEMO_READ_TOKEN=$(new_token --name demo-read --role read)
  SHOAL_DEMO_SUBMIT_TOKEN=$(new_token --name demo-submit --role submit)
  SHOAL_DEMO_NODE_TOKEN=$(new_token --name demo-nodes --role node)
  export SHOAL_DEMO_READ_TOKEN SHOAL_DEMO_SUBMIT_TOKEN SHOAL_DEMO_NODE_TOKEN
  (umask 077 && printf 'SHOAL_TOKEN=%s\nSHOAL_DEMO_READ_TOKEN=%s\nSHOAL_DEMO_SUBMIT_TOKEN=%s\nSHOAL_DEMO_NODE_TOKEN=%s\n' \
    "$SHOAL_TOKEN" "$SHOAL_DEMO_READ_TOKEN" "$SHOAL_DEMO_SUBMIT_TOKEN" "$SHOAL_DEMO_NODE_TOKEN" >"$acl_env")
  "$bin" --api-host "$api_hosts" acl token list
}

# prom_token gives Prometheus the read token (it reads the file at each
# scrape, so it may appear after Prometheus starts).
prom_token() {
  (umask 077 && printf '%s\n' "${SHOAL_DEMO_READ_TOKEN:-}" >"$tls_dir/prometheus.token")
}

up() {
  require_docker
  [ -x "$bin" ] || die "$bin not found: run make build (make demo does)"

  say "Building the image $SHOAL_IMAGE (FROM scratch: nothing is pulled)"
  local previous_image
  previous_image=$(docker image inspect --format '{{.Id}}' "$SHOAL_IMAGE" 2>/dev/null || true)
  bash deploy/build-image.sh "$bin" "$SHOAL_IMAGE" >/dev/null

  local docker_job=yes
  if docker image inspect "$busybox_image" >/dev/null 2>&1; then
    : # built by an earlier run
  elif ensure_busybox; then
    say "Building $busybox_image for the Docker job (docker import of the host's busybox)"
    bash deploy/build-busybox-image.sh "$busybox_image" >/dev/null
  else
    docker_job=""
    echo "No statically linked busybox (apt-get install busybox-static): the Docker job is skipped."
  fi

  ensure_prometheus || die "no prometheus binary (apt-get install prometheus): the demo's Prometheus image is built from it"
  say "Building the Prometheus image $SHOAL_PROM_IMAGE (from Debian's package: nothing is pulled)"
  bash deploy/build-prometheus-image.sh "$SHOAL_PROM_IMAGE" >/dev/null

  say "Building the WebAssembly example deploy/examples/hello-wasm -> $wasm"
  mkdir -p "$(dirname "$wasm")"
  GOOS=wasip1 GOARCH=wasm go build -trimpath -ldflags='-s -w' -o "$wasm" ./deploy/examples/hello-wasm

  say "Starting the cluster (project $project): replicas o1 o2 o3, compute nodes c1 c2 c3, Prometheus"
  # The compute nodes' folders must exist on the host before they are
  # mounted, or the engine creates them owned by root.
  mkdir -p "$SHOAL_DEMO_DATA"/c1 "$SHOAL_DEMO_DATA"/c2 "$SHOAL_DEMO_DATA"/c3 "$SHOAL_DEMO_DATA"/prometheus-rules
  make_tls
  make_prom_config
  "${compose[@]}" up -d
  # A running cluster kept the image this build replaced; it has just been
  # recreated from the new one, so the old one can go.
  if [ -n "$previous_image" ] && [ "$previous_image" != "$(docker image inspect --format '{{.Id}}' "$SHOAL_IMAGE")" ]; then
    docker rmi "$previous_image" >/dev/null 2>&1 || true
  fi
  if [ "$SHOAL_DEMO_ACL" = true ]; then
    bootstrap_acl
    prom_token
    # The compute nodes get their node token: Compose recreates them.
    "${compose[@]}" up -d
  fi
  say "Waiting until all six containers are healthy"
  wait_healthy

  if command -v curl >/dev/null 2>&1; then
    say "Plain HTTP is refused: curl http://127.0.0.1:$SHOAL_O1_PORT/api/v1/agent/alive"
    curl -sS --max-time 5 "http://127.0.0.1:$SHOAL_O1_PORT/api/v1/agent/alive" || true
    echo
  fi
  say "Waiting until Prometheus has scraped them"
  wait_prometheus
  "$bin" --api-host "$api_hosts" operator raft list-peers
  echo
  "$bin" --api-host "$api_hosts" node list

  local out
  out=$(mktemp)
  # shellcheck disable=SC2064 # remove this very file on the way out
  trap "rm -f '$out'" EXIT
  say "Running a WebAssembly job: shoal wasm run $wasm demo"
  "$bin" --api-host "$api_hosts" wasm run "$wasm" demo 2>&1 | tee -a "$out"

  if [ -n "$docker_job" ]; then
    say "Running a Docker job: shoal docker run $busybox_image sh -c 'echo Hello from a container ...'"
    "$bin" --api-host "$api_hosts" docker run "$busybox_image" \
      sh -c 'echo "Hello from a container: $(uname -sm), $(ls /bin | wc -l) busybox tools"' 2>&1 | tee -a "$out"
  fi
  sample_job=$(grep -o 'Job submitted: j-[0-9a-f]*' "$out" | tail -1 | cut -d' ' -f3 || true)

  tour
}

tour() {
  local c="$COMPOSE -p $project -f $compose_file" cli=$bin leader job=${sample_job:-<JOB ID>}
  [[ $cli == /* ]] || cli=./$cli
  leader=$("$bin" --api-host "$api_hosts" operator raft list-peers --output json 2>/dev/null |
    grep -o '"Leader": *"[^"]*"' | head -1 | cut -d'"' -f4 || true)
  leader=${leader:-o1}
  local acl_line="                 no API tokens (SHOAL_DEMO_ACL=false)" acl_export=""
  if [ "$SHOAL_DEMO_ACL" = true ]; then
    [ -n "${SHOAL_TOKEN:-}" ] || { [ -s "$acl_env" ] && . "$acl_env"; } || true
    acl_line="                 ACL tokens: every request needs one (all in $acl_env);
                 the compute nodes were admitted with a node token"
    acl_export="  export SHOAL_TOKEN=${SHOAL_TOKEN:-<SecretID in $acl_env>}   # management; read-only: ${SHOAL_DEMO_READ_TOKEN:-SHOAL_DEMO_READ_TOKEN}
  # $cli acl token self;  $cli acl token create --name me --role submit --ttl 24h"
  fi
  cat <<EOF

$(printf '\033[1m')The Shoal demo cluster is up.$(printf '\033[0m')
  replica APIs:  o1 https://127.0.0.1:$SHOAL_O1_PORT   o2 https://127.0.0.1:$SHOAL_O2_PORT   o3 https://127.0.0.1:$SHOAL_O3_PORT
  compute nodes: c1 (zone=a), c2 (zone=b), c3 (zone=c), engines docker, wasm and noop
  security:      TLS on every connection (API, Raft, replica-to-node), certificates
                 from shoal tls in $tls_dir; gossip encrypted with $tls_dir/gossip.key
$acl_line
  web UI:        http://127.0.0.1:$SHOAL_O1_PORT/ui/  (on every replica)
  Prometheus:    http://127.0.0.1:$SHOAL_PROM_PORT/alerts  (rules: deploy/prometheus/alerts.yml;
                 Grafana dashboard to import: deploy/grafana/shoal.json)

Point the CLI at it (it tries the hosts in turn, so any replica that is up will do):
  export SHOAL_API_HOST=$api_hosts
  export SHOAL_CA_CERT=$SHOAL_CA_CERT
  export SHOAL_CLIENT_CERT=$SHOAL_CLIENT_CERT SHOAL_CLIENT_KEY=$SHOAL_CLIENT_KEY
$acl_export

Try next:
  $cli job list
  $cli job describe $job
  $cli job logs $job
  $cli node list
  $cli wasm run $wasm you
  $cli docker run --constraints zone=b $busybox_image uname -a

Lose the leader ($leader at the moment): another replica takes over within
seconds and jobs keep running; started again, it rejoins and catches up.
  $c kill $leader
  $cli operator raft list-peers
  $cli wasm run $wasm again
  $c start $leader

Results: the compute nodes serve them on the cluster's network, and the
replica you talk to relays them, so job get works from here:
  $cli docker run -p local -o outputs:/outputs $busybox_image sh -c 'date > /outputs/date.txt'
  $cli job get <JOB ID>

Logs: $c logs -f
Remove it all: make demo-down
EOF
}

down() {
  local label="label=com.docker.compose.project=$project"
  if ! docker info >/dev/null 2>&1; then
    echo "The Docker engine does not answer: no cluster to remove."
  elif [ -z "$(docker ps -aq --filter "$label"; docker network ls -q --filter "$label"; docker volume ls -q --filter "$label")" ]; then
    echo "No demo cluster (project $project) to remove."
  else
    say "Removing the cluster (project $project): containers, network, volumes"
    "${compose[@]}" version >/dev/null 2>&1 || die "no Docker Compose to remove project $project with"
    "${compose[@]}" down --volumes --remove-orphans --timeout 10
  fi
  if docker info >/dev/null 2>&1; then
    # A compute node removes its job containers when it stops; one killed
    # during a job (the tour kills containers) leaves it behind, exited.
    # Running ones are left alone: they may belong to another cluster whose
    # nodes are also called c1, c2, c3.
    local left node
    left=$(for node in c1 c2 c3; do
      docker ps -aq --filter "label=shoal.node=$node" --filter status=exited --filter status=created
    done)
    if [ -n "$left" ]; then
      # shellcheck disable=SC2086 # one word per container ID
      docker rm -f $left >/dev/null
    fi
  fi
  if [ -d "$SHOAL_DEMO_DATA" ]; then
    say "Removing $SHOAL_DEMO_DATA"
    # Containers write there as root; when this user may not remove those
    # files, a container removes them.
    if ! rm -rf "$SHOAL_DEMO_DATA" 2>/dev/null; then
      docker run --rm --network none -v "$SHOAL_DEMO_DATA:/demo-data" "$busybox_image" \
        sh -c 'rm -rf /demo-data/* /demo-data/.[!.]*' && rm -rf "$SHOAL_DEMO_DATA"
    fi
  fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  tour) tour ;;
  *) echo "usage: $0 up|down|tour" >&2; exit 2 ;;
esac
