#!/usr/bin/env bash
# Provisions and runs RabbitMQ 4.x brokers on loopback for Streams.Hosting's tests, CI and people.
#
#   scripts/rabbitmq.sh provision           only installs the broker root (no node started)
#   scripts/rabbitmq.sh up                  one node: stream 5552, AMQP 5672, management 15672
#   scripts/rabbitmq.sh down | status | logs
#   scripts/rabbitmq.sh cluster up|down     three more nodes joined in one cluster (stream 5561-5563)
#   scripts/rabbitmq.sh node stop|start N   stop or start cluster node N (1-3)
#   scripts/rabbitmq.sh close-connections [N]  force-close every connection of the single node (or cluster node N)
#   scripts/rabbitmq.sh tls up              adds a TLS stream listener on 5551 (+ SASL EXTERNAL) to the single node
#   scripts/rabbitmq.sh cpus LIST|all       runs the single node's Erlang VM (every thread) on those CPUs only, e.g.
#                                           `cpus 0` for benchmarks that run the client with `taskset -c 1`; until
#                                           the node restarts or `cpus all`
#
# Where the broker comes from, in order:
#   1. RABBITMQ_STREAM_URI set  -> that broker; nothing is provisioned (only checked).
#   2. root on a Debian-like machine, or the root below already provisioned
#                               -> Debian trixie's rabbitmq-server in a debootstrapped root, cached in
#                                  $STREAMS_BROKER_ROOT (default /var/lib/streams-hosting/trixie) and reused.
#   3. otherwise, a Docker engine answers -> the rabbitmq:4-management image (single node only).
# (A Docker engine started for the container tests, scripts/docker.sh, does not change the choice.)
#
# Everything listens on 127.0.0.1 only. Certificates of `tls up` go to $STREAMS_TLS_DIR
# (default /var/lib/streams-hosting/tls): ca.pem, server.pem, server.key, client.pem, client.key, client.pfx.
set -euo pipefail

ROOT=${STREAMS_BROKER_ROOT:-/var/lib/streams-hosting/trixie}
TLS_DIR=${STREAMS_TLS_DIR:-/var/lib/streams-hosting/tls}
STATE=/var/lib/streams          # inside the root
RMQ_VERSION_DIR=/usr/lib/rabbitmq/lib/rabbitmq_server-4.0.5
DOCKER_NAME=streams-hosting-rabbitmq
CLUSTER_NODES=(1 2 3)

log() { printf '[rabbitmq.sh] %s\n' "$*" >&2; }
die() { printf '[rabbitmq.sh] error: %s\n' "$*" >&2; exit 1; }

# --- node layout -------------------------------------------------------------------------------
# node id "single" or "c1".."c3" -> name and ports
node_name() { case $1 in single) echo "rabbit@localhost" ;; c*) echo "rabbit-${1}@localhost" ;; esac; }
node_port() { # $1 node, $2 kind
  local base
  case $2 in stream) base=5552 ;; amqp) base=5672 ;; mgmt) base=15672 ;; dist) base=25672 ;; esac
  case $1 in
    single) echo "$base" ;;
    c*) local n=${1#c}
        case $2 in stream) echo $((5560 + n)) ;; amqp) echo $((5680 + n)) ;; mgmt) echo $((15680 + n)) ;; dist) echo $((25680 + n)) ;; esac ;;
  esac
}

# --- stream-protocol readiness probe -------------------------------------------------------------
# Sends PeerProperties (empty map) and expects response key 0x8011 with code 0x0001.
handshake() { # host port
  local host=$1 port=$2 reply
  reply=$(timeout 3 bash -c '
    exec 3<>"/dev/tcp/$0/$1" || exit 1
    printf "\x00\x00\x00\x0c\x00\x11\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00" >&3
    head -c 12 <&3 | od -An -tx1 | tr -d " \n"' "$host" "$port" 2>/dev/null) || return 1
  [[ ${reply:8:4} == "8011" && ${reply:20:4} == "0001" ]]
}

wait_handshake() { # host port seconds
  local deadline=$((SECONDS + $3))
  while ((SECONDS < deadline)); do
    handshake "$1" "$2" && return 0
    sleep 0.5
  done
  return 1
}

# --- provisioning --------------------------------------------------------------------------------
require_root_debian() {
  [[ $(id -u) == 0 ]] || die "provisioning a broker needs root (debootstrap + chroot). Run as root, start RabbitMQ 4.x with the stream plugin yourself and set RABBITMQ_STREAM_URI, or install Docker."
  command -v apt-get >/dev/null || die "not a Debian-like system: install RabbitMQ 4.x with the rabbitmq_stream and rabbitmq_management plugins and set RABBITMQ_STREAM_URI=rabbitmq-stream://guest:guest@localhost:5552/%2f"
}

apt_mirror() {
  local m
  m=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null \
      | grep -oE 'https?://[^ ]*debian[^ ]*' | grep -v security | head -n1)
  echo "${m:-http://deb.debian.org/debian}"
}

provision_root() {
  [[ -x $ROOT/usr/lib/rabbitmq/bin/rabbitmq-server ]] && return 0
  require_root_debian
  if ! command -v debootstrap >/dev/null; then
    log "installing debootstrap"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  fi
  local mirror tmp
  mirror=$(apt_mirror)
  tmp="$ROOT.partial"
  rm -rf "$tmp"
  mkdir -p "$(dirname "$ROOT")"
  log "debootstrapping Debian trixie with rabbitmq-server into $ROOT from $mirror (about a minute)"
  debootstrap --variant=minbase --include=rabbitmq-server,openssl trixie "$tmp" "$mirror" >"$(dirname "$ROOT")/debootstrap.log" 2>&1 \
    || die "debootstrap failed; see $(dirname "$ROOT")/debootstrap.log"
  mv "$tmp" "$ROOT"
}

mount_proc() {
  mountpoint -q "$ROOT/proc" || mount -t proc proc "$ROOT/proc"
  mountpoint -q "$ROOT/dev" || mount --bind /dev "$ROOT/dev"
}

node_env() { # node -> env assignments for the chroot
  local node=$1 dir="$STATE/$1"
  printf '%s\n' \
    "PATH=/usr/lib/rabbitmq/bin:/usr/sbin:/usr/bin:/sbin:/bin" "HOME=$STATE" "LANG=C.UTF-8" "LC_ALL=C.UTF-8" \
    "RABBITMQ_NODENAME=$(node_name "$node")" "RABBITMQ_USE_LONGNAME=false" \
    "RABBITMQ_CONFIG_FILE=$dir/rabbitmq.conf" "RABBITMQ_MNESIA_BASE=$dir/mnesia" \
    "RABBITMQ_LOG_BASE=$dir/log" "RABBITMQ_PID_FILE=$dir/rabbitmq.pid" \
    "RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins" "RABBITMQ_PLUGINS_DIR=$RMQ_VERSION_DIR/plugins" \
    "RABBITMQ_DIST_PORT=$(node_port "$node" dist)" "ERL_EPMD_ADDRESS=127.0.0.1" \
    "RABBITMQ_CTL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}" \
    "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=${STREAMS_BROKER_ERL_ARGS-+sbwt none +sbwtdcpu none +sbwtdio none}"
}

in_root() { # node cmd...   (runs a command in the root with the node's environment)
  local node=$1; shift
  local -a envs
  mapfile -t envs < <(node_env "$node")
  chroot "$ROOT" /usr/bin/env -i "${envs[@]}" "$@"
}

ctl() { local node=$1; shift; in_root "$node" rabbitmqctl -n "$(node_name "$node")" "$@"; }

write_node_config() {
  local node=$1 dir="$ROOT$STATE/$1"
  mkdir -p "$dir/log" "$dir/mnesia"
  local plugins="rabbitmq_stream,rabbitmq_management"
  [[ -f $dir/tls.conf ]] && plugins="$plugins,rabbitmq_auth_mechanism_ssl"
  echo "[$plugins]." >"$dir/enabled_plugins"
  cat >"$dir/rabbitmq.conf" <<EOF
listeners.tcp.default = 127.0.0.1:$(node_port "$node" amqp)
stream.listeners.tcp.default = 127.0.0.1:$(node_port "$node" stream)
stream.advertised_host = localhost
stream.advertised_port = $(node_port "$node" stream)
management.tcp.ip = 127.0.0.1
management.tcp.port = $(node_port "$node" mgmt)
distribution.listener.interface = 127.0.0.1
distribution.listener.port_range.min = $(node_port "$node" dist)
distribution.listener.port_range.max = $(node_port "$node" dist)
loopback_users = none
log.console = false
log.file.level = info
EOF
  [[ -f $dir/tls.conf ]] && cat "$dir/tls.conf" >>"$dir/rabbitmq.conf"
  return 0
}

node_running() { handshake 127.0.0.1 "$(node_port "$1" stream)"; }

start_node() {
  local node=$1 port
  port=$(node_port "$node" stream)
  if node_running "$node"; then return 0; fi
  provision_root
  mount_proc
  write_node_config "$node"
  [[ -f $ROOT$STATE/.erlang.cookie ]] || { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$ROOT$STATE/.erlang.cookie"; chmod 400 "$ROOT$STATE/.erlang.cookie"; }
  log "starting $(node_name "$node") (stream port $port)"
  local -a envs
  mapfile -t envs < <(node_env "$node")
  # 9>&-: the broker must not inherit the lock descriptor (it would hold the lock for its whole life).
  setsid chroot "$ROOT" /usr/bin/env -i "${envs[@]}" rabbitmq-server >"$ROOT$STATE/$node/log/console.log" 2>&1 </dev/null 9>&- &
  wait_handshake 127.0.0.1 "$port" 90 || { tail -n 30 "$ROOT$STATE/$node/log/console.log" >&2; die "$(node_name "$node") did not answer a stream handshake on 127.0.0.1:$port within 90 s"; }
}

stop_node() {
  local node=$1
  [[ -d $ROOT$STATE/$node ]] || return 0
  if node_running "$node" || [[ -f $ROOT$STATE/$node/rabbitmq.pid ]]; then
    log "stopping $(node_name "$node")"
    in_root "$node" timeout 60 rabbitmqctl -n "$(node_name "$node")" stop >"$ROOT$STATE/$node/log/stop.log" 2>&1 || true
    local pid
    pid=$(cat "$ROOT$STATE/$node/rabbitmq.pid" 2>/dev/null || true)
    [[ -n $pid ]] && kill -9 "$pid" 2>/dev/null || true
    rm -f "$ROOT$STATE/$node/rabbitmq.pid"
  fi
}

# --- docker and external brokers ------------------------------------------------------------------
external_uri() { [[ -n ${RABBITMQ_STREAM_URI:-} ]]; }
uri_host_port() { # prints "host port" of RABBITMQ_STREAM_URI
  local rest=${RABBITMQ_STREAM_URI#*://}
  rest=${rest#*@}; rest=${rest%%/*}
  local host=${rest%%:*} port=5552
  [[ $rest == *:* ]] && port=${rest##*:}
  echo "$host $port"
}
docker_available() { command -v docker >/dev/null && timeout 5 docker info >/dev/null 2>&1; }
docker_broker() { docker_available && docker ps --format '{{.Names}}' | grep -qx "$DOCKER_NAME"; } # the broker of docker_up runs
can_use_root() { [[ -x $ROOT/usr/lib/rabbitmq/bin/rabbitmq-server ]] || { [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; }; }

docker_up() {
  if ! docker ps --format '{{.Names}}' | grep -qx "$DOCKER_NAME"; then
    docker rm -f "$DOCKER_NAME" >/dev/null 2>&1 || true
    log "starting rabbitmq:4-management in Docker"
    docker run -d --name "$DOCKER_NAME" -p 127.0.0.1:5552:5552 -p 127.0.0.1:5672:5672 -p 127.0.0.1:15672:15672 \
      -e RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS='-rabbitmq_stream advertised_host localhost' \
      rabbitmq:4-management >/dev/null
    docker exec "$DOCKER_NAME" rabbitmq-plugins enable --offline rabbitmq_stream >/dev/null 2>&1 || true
  fi
  wait_handshake 127.0.0.1 5552 120 || die "the Docker broker did not answer a stream handshake on 127.0.0.1:5552"
}

# --- commands --------------------------------------------------------------------------------------
cmd_up() {
  if external_uri; then
    read -r host port < <(uri_host_port)
    wait_handshake "$host" "$port" 10 || die "RABBITMQ_STREAM_URI=$RABBITMQ_STREAM_URI does not answer a stream handshake"
    echo "$RABBITMQ_STREAM_URI"; return
  fi
  if handshake 127.0.0.1 5552; then echo "rabbitmq-stream://guest:guest@localhost:5552/%2f"; return; fi
  if ! can_use_root && docker_available; then docker_up; else start_node single; fi
  echo "rabbitmq-stream://guest:guest@localhost:5552/%2f"
}

cmd_down() {
  if docker_available && docker ps -a --format '{{.Names}}' | grep -qx "$DOCKER_NAME"; then docker rm -f "$DOCKER_NAME" >/dev/null; fi
  stop_node single
}

cmd_status() {
  local node any=1
  for node in single c1 c2 c3; do
    local port; port=$(node_port "$node" stream)
    if handshake 127.0.0.1 "$port"; then echo "$(node_name "$node") running: rabbitmq-stream://guest:guest@localhost:$port/%2f"; any=0
    elif [[ $node == single ]]; then echo "$(node_name "$node") not running"; fi
  done
  return $any
}

cmd_logs() {
  local node=${1:-single}
  [[ $node =~ ^[123]$ ]] && node=c$node
  if docker_broker; then docker logs --tail 200 "$DOCKER_NAME"; return; fi
  tail -n 200 "$ROOT$STATE/$node"/log/*.log 2>/dev/null || die "no logs for $node"
}

cmd_cluster() {
  case ${1:-} in
    up)
      local n joined
      for n in "${CLUSTER_NODES[@]}"; do start_node "c$n"; done
      for n in 2 3; do
        joined=$(ctl "c$n" cluster_status --formatter json 2>/dev/null | grep -o 'rabbit-c1@localhost' | head -n1 || true)
        if [[ -z $joined ]]; then
          log "joining $(node_name "c$n") to $(node_name c1)"
          ctl "c$n" stop_app >/dev/null
          ctl "c$n" reset >/dev/null
          ctl "c$n" join_cluster "$(node_name c1)" >/dev/null
          ctl "c$n" start_app >/dev/null
        fi
      done
      for n in "${CLUSTER_NODES[@]}"; do wait_handshake 127.0.0.1 "$(node_port "c$n" stream)" 60 || die "cluster node $n not answering"; done
      ctl c1 await_online_nodes 3 >/dev/null 2>&1 || true
      echo "rabbitmq-stream://guest:guest@localhost:5561/%2f rabbitmq-stream://guest:guest@localhost:5562/%2f rabbitmq-stream://guest:guest@localhost:5563/%2f"
      ;;
    down)
      local n
      for n in 3 2 1; do stop_node "c$n"; done
      rm -rf "${ROOT:?}$STATE/c1" "${ROOT:?}$STATE/c2" "${ROOT:?}$STATE/c3"
      ;;
    *) die "usage: cluster up|down" ;;
  esac
}

cmd_node() {
  local action=${1:-} n=${2:-}
  [[ $n =~ ^[123]$ ]] || die "usage: node stop|start N (N = 1..3)"
  case $action in
    stop) stop_node "c$n" ;;
    start) start_node "c$n" ;;
    *) die "usage: node stop|start N" ;;
  esac
}

cmd_close_connections() {
  local node=single
  [[ ${1:-} =~ ^[123]$ ]] && node=c$1
  if docker_broker; then
    docker exec "$DOCKER_NAME" rabbitmqctl close_all_user_connections guest "closed by rabbitmq.sh" >/dev/null; return
  fi
  ctl "$node" close_all_user_connections guest "closed by rabbitmq.sh" >/dev/null
}

cmd_tls() {
  [[ ${1:-} == up ]] || die "usage: tls up"
  command -v openssl >/dev/null || { apt-get install -y -qq openssl >/dev/null; }
  mkdir -p "$TLS_DIR"
  if [[ ! -f $TLS_DIR/client.pfx ]]; then
    log "generating a CA, a server (CN=localhost) and a client (CN=guest) certificate in $TLS_DIR"
    (
      cd "$TLS_DIR"
      openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=Streams.Hosting test CA" -keyout ca.key -out ca.pem 2>/dev/null
      openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr 2>/dev/null
      printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >server.ext
      openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 -extfile server.ext -out server.pem 2>/dev/null
      openssl req -newkey rsa:2048 -nodes -subj "/CN=guest" -keyout client.key -out client.csr 2>/dev/null
      printf 'extendedKeyUsage=clientAuth\n' >client.ext
      openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 -extfile client.ext -out client.pem 2>/dev/null
      openssl pkcs12 -export -passout pass: -in client.pem -inkey client.key -out client.pfx 2>/dev/null
      chmod 644 ./*
    )
  fi
  if external_uri || docker_broker; then die "tls up provisions only the debootstrapped broker"; fi
  provision_root
  local dir="$ROOT$STATE/single"
  mkdir -p "$dir/certs"
  cp "$TLS_DIR"/{ca.pem,server.pem,server.key} "$dir/certs/"
  cat >"$dir/tls.conf" <<EOF
stream.listeners.ssl.default = 127.0.0.1:5551
ssl_options.cacertfile = $STATE/single/certs/ca.pem
ssl_options.certfile = $STATE/single/certs/server.pem
ssl_options.keyfile = $STATE/single/certs/server.key
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = false
ssl_cert_login_from = common_name
auth_mechanisms.1 = PLAIN
auth_mechanisms.2 = AMQPLAIN
auth_mechanisms.3 = EXTERNAL
EOF
  if ! timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/5551" 2>/dev/null; then
    stop_node single
    start_node single
  fi
  local deadline=$((SECONDS + 30))
  until timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/5551" 2>/dev/null; do
    ((SECONDS < deadline)) || die "the TLS listener 127.0.0.1:5551 did not open"
    sleep 0.5
  done
  echo "rabbitmq-stream+tls://localhost:5551/%2f (CA and client certificate in $TLS_DIR)"
}

cmd_cpus() {
  local cpus=${1:-} port pid
  [[ -n $cpus ]] || die "usage: cpus LIST|all (a taskset CPU list, e.g. 0 or 0-1)"
  if external_uri || docker_broker; then die "cpus pins only the debootstrapped broker"; fi
  [[ $cpus == all ]] && cpus="0-$(($(nproc --all) - 1))"
  port=$(node_port single stream)
  pid=$(ss -Hltnp "sport = :$port" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
  [[ -n $pid ]] || die "no broker listens on 127.0.0.1:$port (run: up)"
  taskset -a -p -c "$cpus" "$pid" >/dev/null || die "taskset could not pin pid $pid to CPUs $cpus"
  taskset -c -p "$pid"
}

# Commands that start, stop or join nodes take a machine-wide lock: tests running in parallel may call
# `cluster up` or `node stop` at the same moment, and two joins at once fail.
LOCK_FILE=${STREAMS_BROKER_LOCK:-/tmp/streams-hosting-rabbitmq.lock}
with_lock() {
  exec 9>"$LOCK_FILE"
  flock -w 600 9 || die "could not take $LOCK_FILE within 600 s"
}

main() {
  local cmd=${1:-}
  shift || true
  case $cmd in provision|up|down|cluster|node|tls) with_lock ;; esac
  case $cmd in
    provision) provision_root; echo "$ROOT" ;;
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    logs) cmd_logs "$@" ;;
    cluster) cmd_cluster "$@" ;;
    node) cmd_node "$@" ;;
    close-connections) cmd_close_connections "$@" ;;
    tls) cmd_tls "$@" ;;
    cpus) cmd_cpus "$@" ;;
    *) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; [[ -z $cmd ]] && exit 2; die "unknown command: $cmd" ;;
  esac
}

main "$@"
