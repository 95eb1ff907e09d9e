#!/usr/bin/env bash
# Streams.Hosting developer entry point.
#   ./build.sh test    brings the broker up (scripts/rabbitmq.sh up), a Docker engine for the container tests
#                      (scripts/docker.sh) and chromium for the dashboard's browser test (scripts/chromium.sh),
#                      builds and runs every test, prints "N passed, N failed" last and exits non-zero on any failure
#   ./build.sh test --unit  the broker-free tests only (no broker, Docker or chromium needed), about a minute once built
#   ./build.sh demo    brings the broker up and runs the web API sample on http://localhost:5080 (Ctrl+C stops it)
#   ./build.sh hello   brings the broker up and runs the Hello World tutorial (send, then receive one message)
#   ./build.sh build   builds everything (Release)
#   ./build.sh pack    packs every library in src/, the `streams` tool and the template pack into one folder feed
#                      (artifacts/packages: .nupkg and .snupkg) and lists it; any pack warning fails it.
#                      Options: --output DIR, --no-build (pack what the last build produced), --configuration C
# Point at an existing broker with RABBITMQ_STREAM_URI=rabbitmq-stream://user:pass@host:port/vhost.
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

results=artifacts/test-results

summarize() { # prints "N passed, N failed" from the TRX files
  local passed=0 failed=0 p f file counters
  for file in "$results"/*.trx; do
    [[ -f $file ]] || continue
    counters=$(grep -o '<Counters [^>]*>' "$file" | head -n1)
    p=$(sed -E 's/.* passed="([0-9]+)".*/\1/' <<<"$counters")
    f=$(sed -E 's/.* failed="([0-9]+)".*/\1/' <<<"$counters")
    local e; e=$(sed -E 's/.* error="([0-9]+)".*/\1/' <<<"$counters")
    local t; t=$(sed -E 's/.* timeout="([0-9]+)".*/\1/' <<<"$counters")
    passed=$((passed + p)); failed=$((failed + f + e + t))
  done
  echo "$passed passed, $failed failed"
}

failures() { # names each failed test with the first lines of its message, so a CI excerpt shows what failed
  command -v python3 >/dev/null || return 0
  python3 - "$results" <<'PY' || true
import glob, sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
for path in sorted(glob.glob(sys.argv[1] + "/*.trx")):
    for r in ET.parse(path).getroot().iterfind(".//t:UnitTestResult", ns):
        if r.get("outcome") not in ("Failed", "Error", "Timeout"):
            continue
        message = r.findtext(".//t:Message", default="", namespaces=ns).strip().splitlines()
        # Where it failed: the first frames of our own code (the test's line), not the framework's.
        frames = [f.strip() for f in r.findtext(".//t:StackTrace", default="", namespaces=ns).splitlines()]
        ours = [f for f in frames if f.startswith("at Streams.")][:3]
        duration = r.get("duration", "?")
        print(f"FAILED {r.get('testName')} ({duration}): " + " | ".join(message[:4])[:600])
        for frame in ours:
            print(f"    {frame[:300]}")
PY
}

# The container tests (tests/Streams.Hosting.Testing.Tests, the template's test) run RabbitMQ in Docker: a local engine
# (scripts/docker.sh up), an image imported from the broker root (no registry) unless STREAMS_RABBITMQ_IMAGE names one,
# and the engine's API version. When any of it fails the run goes on: those tests then fail saying why, the others run.
docker_for_container_tests() {
  local own_image=${STREAMS_RABBITMQ_IMAGE:-}
  if ! bash scripts/docker.sh up; then
    echo "warning: no Docker engine: the container tests will fail (see scripts/docker.sh)" >&2
    return 0
  fi
  if [[ -z $own_image ]] && ! bash scripts/docker.sh image >/dev/null; then
    echo "warning: could not build the broker image: the container tests will try rabbitmq:4-management" >&2
  fi
  local exports
  exports=$(bash scripts/docker.sh env) || { echo "warning: the Docker engine stopped answering" >&2; return 0; }
  eval "$exports"
  if [[ -n $own_image ]]; then export STREAMS_RABBITMQ_IMAGE=$own_image; fi
  echo "container tests: Docker API $DOCKER_API_VERSION, image ${STREAMS_RABBITMQ_IMAGE:-rabbitmq:4-management}"
}

# --unit: the broker-free tests only (no broker, no Docker; about a minute once built). The broker URI points at a
# closed port, so a broker test left untagged fails here instead of passing unseen (TestCategoryTests guards the tags).
cmd_unit() {
  rm -rf "$results"
  dotnet build Streams.Hosting.sln -c Release -warnaserror 2>&1 | tail -n 3
  local rc=0
  RABBITMQ_STREAM_URI=rabbitmq-stream://guest:guest@127.0.0.1:1/%2f RABBITMQ_MANAGEMENT_URI=http://127.0.0.1:1 \
    dotnet test Streams.Hosting.sln -c Release --no-build \
    --filter "Category!=Broker&Category!=Docker&Category!=Cluster&Category!=LocalBroker" \
    --logger "trx" --logger "console;verbosity=minimal" --results-directory "$results" "$@" || rc=$?
  failures
  local line; line=$(summarize)
  local failed=${line#*, }; failed=${failed%% *}
  if ((failed > 0)); then rc=1; fi
  echo "$line"
  return $rc
}

cmd_test() {
  if [[ ${1:-} == --unit ]]; then shift; cmd_unit "$@"; return; fi
  bash scripts/rabbitmq.sh up
  # The TLS listener restarts the node the first time: do it before any test connects.
  if [[ -z ${RABBITMQ_STREAM_URI:-} ]]; then bash scripts/rabbitmq.sh tls up; fi
  docker_for_container_tests
  # The dashboard's browser test drives Debian's chromium; when it cannot be installed that test fails saying why.
  bash scripts/chromium.sh || echo "warning: chromium/chromium-driver could not be installed: the dashboard browser test will fail" >&2
  rm -rf "$results"
  dotnet build Streams.Hosting.sln -c Release -warnaserror 2>&1 | tail -n 3
  local rc=0
  # -m:1: one test assembly at a time. Fault tests (close-connections, node stops) act on the whole broker and run
  # in non-parallel collections inside their assembly; another assembly running beside them would see its
  # connections dropped too.
  dotnet test Streams.Hosting.sln -c Release --no-build -m:1 \
    --logger "trx" --logger "console;verbosity=normal" --results-directory "$results" "$@" || rc=$?
  failures
  local line; line=$(summarize)
  local failed=${line#*, }; failed=${failed%% *}
  local passed=${line%% *}
  if ((rc == 0 && passed == 0)); then echo "no test ran" >&2; rc=1; fi
  if ((failed > 0)); then rc=1; fi
  echo "$line"
  return $rc
}

# Every package ./build.sh pack produces, in dependency order (the tests check the list against the feed).
pack_projects=(
  src/Streams.Client/Streams.Client.csproj
  src/Streams.Client.Compression/Streams.Client.Compression.csproj
  src/Streams.Hosting/Streams.Hosting.csproj
  src/Streams.Hosting.AspNetCore/Streams.Hosting.AspNetCore.csproj
  src/Streams.Hosting.OpenTelemetry/Streams.Hosting.OpenTelemetry.csproj
  src/Streams.Hosting.Testing/Streams.Hosting.Testing.csproj
  src/Streams.Cli/Streams.Cli.csproj
  templates/Streams.Hosting.Templates.csproj
)

cmd_pack() {
  local output=artifacts/packages configuration=Release build=() project
  while (($#)); do
    case $1 in
      --output | -o) output=${2:?--output needs a directory}; shift 2 ;;
      --no-build) build=(--no-build); shift ;;
      --configuration | -c) configuration=${2:?--configuration needs a value}; shift 2 ;;
      *) echo "unknown pack option: $1 (--output DIR, --no-build, --configuration C)" >&2; return 2 ;;
    esac
  done
  mkdir -p "$output"
  output=$(cd "$output" && pwd)
  rm -f "$output"/*.nupkg "$output"/*.snupkg
  # ContinuousIntegrationBuild: deterministic source paths in the PDBs. -warnaserror: a pack warning (NU5xxx) or any
  # build warning fails the pack.
  # The template pack has no build output: it is always "built" (restored and packed), never --no-build.
  for project in "${pack_projects[@]}"; do
    local no_build=("${build[@]}")
    [[ $project == templates/* ]] && no_build=()
    dotnet pack "$project" -c "$configuration" "${no_build[@]}" -o "$output" -warnaserror -nologo -v quiet \
      -clp:NoSummary -p:ContinuousIntegrationBuild=true
  done
  echo "packages in $output:"
  (cd "$output" && ls -1 -- *.nupkg *.snupkg | sed 's/^/  /')
}

cmd_demo() {
  bash scripts/rabbitmq.sh up
  echo "web API on http://localhost:5080 — try: curl -i -X POST localhost:5080/orders -H 'content-type: application/json' -d '{\"id\":\"o-1\",\"customer\":\"ada\",\"amount\":12.5}'"
  dotnet run --project samples/WebApi -c Release -- --urls http://localhost:5080
}

cmd_hello() {
  bash scripts/rabbitmq.sh up
  dotnet run --project samples/Tutorials/HelloWorld/Send -c Release
  dotnet run --project samples/Tutorials/HelloWorld/Receive -c Release -- --count 1
}

case ${1:-} in
  test) shift; cmd_test "$@" ;;
  demo) cmd_demo ;;
  hello) cmd_hello ;;
  build) dotnet build Streams.Hosting.sln -c Release ;;
  pack) shift; cmd_pack "$@" ;;
  *) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
