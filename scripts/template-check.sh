#!/usr/bin/env bash
# Checks the `dotnet new streams-worker` template the way a user with the published packages uses it:
#   1. packs Streams.Client, Streams.Hosting and Streams.Hosting.Testing (and the template pack) into a local folder feed;
#   2. installs the template from templates/streams-worker (into a private template hive, not the user's);
#   3. instantiates it in a temporary directory;
#   4. restores with a nuget.config holding the local feed and nuget.org (packages extracted into the temporary
#      directory, so a package packed earlier with the same version is never picked up from a cache);
#   5. builds it (warnings are errors) and runs its test against RabbitMQ in Docker (Streams.Hosting.Testing's fixture:
#      a Docker engine, and DOCKER_API_VERSION / STREAMS_RABBITMQ_IMAGE / TESTCONTAINERS_RYUK_DISABLED as build.sh sets them).
# Usage: scripts/template-check.sh [--configuration Release|Debug] [--no-build] [--keep]
#   --no-build  pack what is already built in that configuration (the test suite does this after its build)
#   --keep      leave the temporary directory for inspection
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
configuration=Release
no_build=()
keep=0
while (($#)); do
  case $1 in
    --configuration | -c) configuration=$2; shift 2 ;;
    --no-build) no_build=(--no-build); shift ;;
    --keep) keep=1; shift ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1 DOTNET_GENERATE_ASPNET_CERTIFICATE=false
# No build servers or MSBuild nodes outliving the script (they would also hold a calling test's output pipes open).
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0 UseSharedCompilation=false

work=$(mktemp -d "${TMPDIR:-/tmp}/streams-template.XXXXXX")
cleanup() { if ((keep)); then echo "kept $work"; else rm -rf "$work"; fi; }
trap cleanup EXIT
feed=$work/feed hive=$work/hive app=$work/app
step() { echo "== template-check: $*"; }

version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$root/Directory.Build.props" | head -n1)
template_version=$(grep -A5 '"StreamsHostingVersion"' "$root/templates/streams-worker/.template.config/template.json" |
  sed -n 's/.*"defaultValue": *"\([^"]*\)".*/\1/p' | head -n1)
if [[ $version != "$template_version" ]]; then
  echo "templates/streams-worker references Streams.Hosting $template_version but the repository packs $version:" \
    "update StreamsHostingVersion's defaultValue in .template.config/template.json" >&2
  exit 1
fi

step "pack Streams.Client, Streams.Hosting and Streams.Hosting.Testing $version ($configuration) into $feed"
for project in src/Streams.Client/Streams.Client.csproj src/Streams.Hosting/Streams.Hosting.csproj src/Streams.Hosting.Testing/Streams.Hosting.Testing.csproj; do
  dotnet pack "$root/$project" -c "$configuration" "${no_build[@]}" -o "$feed" -v quiet -nologo
done
dotnet pack "$root/templates/Streams.Hosting.Templates.csproj" -c "$configuration" -o "$feed" -v quiet -nologo
ls "$feed"
unzip -l "$feed/Streams.Hosting.Templates.$version.nupkg" | grep -q 'content/streams-worker/.template.config/template.json' ||
  { echo "the template pack does not contain content/streams-worker/.template.config/template.json" >&2; exit 1; }

step "dotnet new install templates/streams-worker"
dotnet new install "$root/templates/streams-worker" --debug:custom-hive "$hive"

step "dotnet new streams-worker -n Acme.Billing"
mkdir -p "$app"
(cd "$app" && dotnet new streams-worker -n Acme.Billing -o . --debug:custom-hive "$hive")

# Packages go to a folder of their own (never a stale Streams.Hosting $version from ~/.nuget/packages); the user's
# package folder is only a read-only fallback for the others, unless it holds a Streams.* package of this version.
fallback=""
user_packages=${NUGET_PACKAGES:-${HOME:-/nonexistent}/.nuget/packages}
if [[ -d $user_packages && ! -d $user_packages/streams.hosting/$version && ! -d $user_packages/streams.client/$version &&
  ! -d $user_packages/streams.hosting.testing/$version ]]; then
  fallback="<fallbackPackageFolders><add key=\"user\" value=\"$user_packages\" /></fallbackPackageFolders>"
fi
cat >"$app/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <config>
    <add key="globalPackagesFolder" value="$work/packages" />
  </config>
  <packageSources>
    <clear />
    <add key="local" value="$feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
  <packageSourceMapping>
    <packageSource key="local">
      <package pattern="Streams.Client" />
      <package pattern="Streams.Hosting" />
      <package pattern="Streams.Hosting.Testing" />
    </packageSource>
    <packageSource key="nuget.org">
      <package pattern="*" />
    </packageSource>
  </packageSourceMapping>
  $fallback
</configuration>
XML

step "restore, build (warnings as errors) and test"
cd "$app"
unset NUGET_PACKAGES
dotnet restore Acme.Billing.slnx -nologo
dotnet build Acme.Billing.slnx --no-restore -warnaserror -nologo -v quiet
grep -q "<PackageReference Include=\"Streams.Hosting\" Version=\"$version\"" Acme.Billing/Acme.Billing.csproj
grep -q "<PackageReference Include=\"Streams.Hosting.Testing\" Version=\"$version\"" Acme.Billing.Tests/Acme.Billing.Tests.csproj
dotnet test Acme.Billing.Tests/Acme.Billing.Tests.csproj --no-build -nologo --logger "console;verbosity=normal"
step "ok"
