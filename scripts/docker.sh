#!/usr/bin/env bash
# A local Docker engine and a RabbitMQ image for the container tests (Streams.Hosting.Testing), with no registry.
#
#   scripts/docker.sh up      installs Debian's docker.io if dockerd is missing and starts dockerd as root on its
#                             unix socket (DOCKER_HOST=unix://... picks another; nothing listens on TCP), then waits
#                             until `docker info` answers; published container ports bind to 127.0.0.1 only
#   scripts/docker.sh image   builds streams-rabbitmq:4.0.5 from the broker root of `scripts/rabbitmq.sh provision`
#                             (`docker import`, no pull); skipped when the image of the same root checksum exists
#   scripts/docker.sh env     prints the exports the container tests need: DOCKER_API_VERSION (the engine's),
#                             TESTCONTAINERS_RYUK_DISABLED=true, and STREAMS_RABBITMQ_IMAGE=streams-rabbitmq:4.0.5 once built
#   scripts/docker.sh down    removes leftover test broker containers, stops the dockerd that `up` started (only that one)
#
# Why DOCKER_API_VERSION: Debian's docker.io is engine 20.10 (API 1.41); Testcontainers 4.16 asks for API 1.44 unless
# told otherwise and is refused by older engines. Why the reaper is off: its image (testcontainers/ryuk) cannot be
# pulled without a registry; the fixtures remove their containers themselves.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

IMAGE=${STREAMS_RABBITMQ_IMAGE_NAME:-streams-rabbitmq:4.0.5}
ROOT=${STREAMS_BROKER_ROOT:-/var/lib/streams-hosting/trixie}
SOCKET=${DOCKER_HOST:-unix:///var/run/docker.sock}
SOCKET_PATH=${SOCKET#unix://}
STATE_DIR=${STREAMS_DOCKER_STATE:-/var/lib/streams-hosting/docker}
PID_FILE=$STATE_DIR/dockerd.pid
LOG_FILE=$STATE_DIR/dockerd.log
# The image's runtime settings. Part of the checksum: changing them rebuilds the image.
CHANGES=(
  'ENV PATH=/usr/lib/rabbitmq/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  'ENV HOME=/var/lib/rabbitmq'
  'ENV LANG=C.UTF-8'
  'ENV LC_ALL=C.UTF-8'
  'EXPOSE 5552 5672 15672'
  'CMD ["/usr/lib/rabbitmq/bin/rabbitmq-server"]'
)

log() { printf '[docker.sh] %s\n' "$*" >&2; }
die() { printf '[docker.sh] error: %s\n' "$*" >&2; exit 1; }

engine_answers() { timeout 10 docker info >/dev/null 2>&1; }

cmd_up() {
  [[ $SOCKET == unix://* ]] || die "DOCKER_HOST=$SOCKET: this script starts engines on a unix socket only"
  export DOCKER_HOST=$SOCKET
  if engine_answers; then return 0; fi
  [[ $(id -u) == 0 ]] || die "starting dockerd needs root; start a Docker engine yourself (or point DOCKER_HOST at one)"
  if ! command -v dockerd >/dev/null; then
    command -v apt-get >/dev/null || die "dockerd is missing and this is not a Debian-like system: install Docker"
    log "installing Debian's docker.io"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null || die "apt-get install docker.io failed"
  fi
  mkdir -p "$STATE_DIR" "$(dirname "$SOCKET_PATH")"
  log "starting dockerd on $SOCKET (log: $LOG_FILE)"
  # --ip 127.0.0.1: ports published without an address bind to loopback only. No -H tcp://: nothing on TCP.
  setsid dockerd --host "$SOCKET" --ip 127.0.0.1 --pidfile "$PID_FILE" >"$LOG_FILE" 2>&1 </dev/null &
  local deadline=$((SECONDS + 60))
  until engine_answers; do
    if ((SECONDS >= deadline)); then tail -n 20 "$LOG_FILE" >&2; die "dockerd did not answer on $SOCKET within 60 s"; fi
    sleep 0.5
  done
  log "Docker engine $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})') on $SOCKET"
}

cmd_down() {
  export DOCKER_HOST=$SOCKET
  if engine_answers; then
    # Brokers of Streams.Hosting.Testing whose test process died before removing them (the reaper is off).
    local leftovers; leftovers=$(docker ps -aq --filter label=org.streams-hosting.testing)
    [[ -z $leftovers ]] || docker rm -f $leftovers >/dev/null
  fi
  [[ -f $PID_FILE ]] || return 0
  local pid; pid=$(cat "$PID_FILE")
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    log "stopping dockerd (pid $pid)"
    kill "$pid"
    local deadline=$((SECONDS + 30))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.5; done
  fi
  rm -f "$PID_FILE"
}

root_checksum() { # what the image is made of: the root's installed packages and this recipe
  { cat "$ROOT/var/lib/dpkg/status"; printf '%s\n' "${CHANGES[@]}"; } | sha256sum | cut -c1-16
}

cmd_image() {
  export DOCKER_HOST=$SOCKET
  engine_answers || die "no Docker engine answers on $SOCKET (run: scripts/docker.sh up)"
  bash "$here/rabbitmq.sh" provision >/dev/null
  local sum current
  sum=$(root_checksum)
  current=$(docker image inspect "$IMAGE" --format '{{index .Config.Labels "streams-hosting.root-checksum"}}' 2>/dev/null || true)
  if [[ $current == "$sum" ]]; then log "$IMAGE is up to date (root checksum $sum)"; echo "$IMAGE"; return 0; fi
  local -a changes=()
  local change
  for change in "${CHANGES[@]}" "LABEL streams-hosting.root-checksum=$sum"; do changes+=(--change "$change"); done
  log "building $IMAGE from $ROOT (root checksum $sum)"
  # --one-file-system: not the proc/dev mounts of a running node; not the nodes' state (/var/lib/streams).
  tar -C "$ROOT" --one-file-system --exclude=./var/lib/streams --exclude=./proc/* --exclude=./dev/* -c . \
    | docker import "${changes[@]}" - "$IMAGE" >/dev/null
  echo "$IMAGE"
}

cmd_env() {
  export DOCKER_HOST=$SOCKET
  local api
  api=$(docker version --format '{{.Server.APIVersion}}' 2>/dev/null) || die "no Docker engine answers on $SOCKET (run: scripts/docker.sh up)"
  printf 'export DOCKER_API_VERSION=%s\nexport TESTCONTAINERS_RYUK_DISABLED=true\n' "$api"
  if docker image inspect "$IMAGE" >/dev/null 2>&1; then printf 'export STREAMS_RABBITMQ_IMAGE=%s\n' "$IMAGE"; fi
  [[ $SOCKET != unix:///var/run/docker.sock ]] && printf 'export DOCKER_HOST=%s\n' "$SOCKET"
  return 0
}

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  image) cmd_image ;;
  env) cmd_env ;;
  *) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; [[ -z ${1:-} ]] && exit 2; die "unknown command: $1" ;;
esac
