#!/usr/bin/env bash
# Checks the `dotnet new` templates (streams-worker, streams-webapi) the way a user with the published packages uses them:
#   1. packs every package (`./build.sh pack`: the libraries, the tool and the template pack Streams.Hosting.Templates)
#      into a local folder feed, or uses the feed --feed names;
#   2. installs the template pack from that feed (into a private template hive, not the user's);
#   3. instantiates each template in a temporary directory (streams-worker as Acme.Billing, streams-webapi as
#      Acme.Storefront);
#   4. restores with a nuget.config holding the local feed and nuget.org (packages extracted into the temporary
#      directory, so a package packed earlier with the same version is never picked up from a cache);
#   5. builds it (warnings are errors) and runs its tests against RabbitMQ in Docker (Streams.Hosting.Testing's fixture:
#      a Docker engine, and DOCKER_API_VERSION / STREAMS_RABBITMQ_IMAGE / TESTCONTAINERS_RYUK_DISABLED as build.sh sets them).
# Usage: scripts/template-check.sh [--configuration Release|Debug] [--no-build | --feed DIR] [--keep] [--template NAME]...
#   --no-build       pack what is already built in that configuration
#   --feed DIR       do not pack: use the packages `./build.sh pack --output DIR` made (the test suite packs once)
#   --keep           leave the temporary directory for inspection
#   --template NAME  check only that template (streams-worker or streams-webapi; repeatable); default: both
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
configuration=Release
no_build=()
given_feed=""
keep=0
templates=()
while (($#)); do
  case $1 in
    --template | -t)
      case ${2:-} in
        streams-worker | streams-webapi) templates+=("$2") ;;
        *) echo "unknown template: ${2:-} (streams-worker or streams-webapi)" >&2; exit 2 ;;
      esac
      shift 2 ;;
    --configuration | -c) configuration=$2; shift 2 ;;
    --no-build) no_build=(--no-build); shift ;;
    --feed) given_feed=$(cd "${2:?--feed needs a directory}" && pwd); shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
((${#templates[@]})) || templates=(streams-worker streams-webapi)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1 DOTNET_GENERATE_ASPNET_CERTIFICATE=false
# No build servers or MSBuild nodes outliving the script (they would also hold a calling test's output pipes open).
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0 UseSharedCompilation=false

work=$(mktemp -d "${TMPDIR:-/tmp}/streams-template.XXXXXX")
cleanup() { if ((keep)); then echo "kept $work"; else rm -rf "$work"; fi; }
trap cleanup EXIT
feed=$work/feed hive=$work/hive
step() { echo "== template-check: $*"; }

# The packages the templates reference from the local feed (everything else comes from nuget.org).
local_packages=(Streams.Client Streams.Hosting Streams.Hosting.OpenTelemetry Streams.Hosting.Testing)

version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$root/Directory.Build.props" | head -n1)
for template in "${templates[@]}"; do
  template_version=$(grep -A5 '"StreamsHostingVersion"' "$root/templates/$template/.template.config/template.json" |
    sed -n 's/.*"defaultValue": *"\([^"]*\)".*/\1/p' | head -n1)
  if [[ $version != "$template_version" ]]; then
    echo "templates/$template references Streams.Hosting $template_version but the repository packs $version:" \
      "update StreamsHostingVersion's defaultValue in templates/$template/.template.config/template.json" >&2
    exit 1
  fi
done

if [[ -n $given_feed ]]; then
  feed=$given_feed
  step "packages from $feed"
  ls "$feed"
else
  step "./build.sh pack --configuration $configuration ${no_build[*]} --output $feed"
  "$root/build.sh" pack --configuration "$configuration" "${no_build[@]}" --output "$feed"
fi
for package in "${local_packages[@]}" Streams.Hosting.Templates; do
  [[ -f $feed/$package.$version.nupkg ]] || { echo "$feed has no $package.$version.nupkg" >&2; exit 1; }
done
template_pack=$feed/Streams.Hosting.Templates.$version.nupkg
for template in "${templates[@]}"; do
  unzip -l "$template_pack" | grep -q "content/$template/.template.config/template.json" ||
    { echo "the template pack does not contain content/$template/.template.config/template.json" >&2; exit 1; }
done

step "dotnet new install $(basename "$template_pack")"
dotnet new install "$template_pack" --debug:custom-hive "$hive"

# Packages go to a folder of their own (never a stale Streams.* $version from ~/.nuget/packages); the user's package
# folder is only a read-only fallback for the others, unless it holds a Streams.* package of this version.
fallback=""
user_packages=${NUGET_PACKAGES:-${HOME:-/nonexistent}/.nuget/packages}
if [[ -d $user_packages ]]; then
  fallback="<fallbackPackageFolders><add key=\"user\" value=\"$user_packages\" /></fallbackPackageFolders>"
  for package in "${local_packages[@]}"; do
    [[ -d $user_packages/${package,,}/$version ]] && fallback=""
  done
fi
mapping=""
for package in "${local_packages[@]}"; do
  mapping+="<package pattern=\"$package\" />"
done

# check_template TEMPLATE NAME EXPECTED_REFERENCE...: instantiates, restores, builds and tests one template; each
# EXPECTED_REFERENCE is PROJECT=PACKAGE, a package reference at $version that the generated project must have.
check_template() {
  local template=$1 name=$2 app=$work/$1
  shift 2
  step "dotnet new $template -n $name"
  mkdir -p "$app"
  (cd "$app" && dotnet new "$template" -n "$name" -o . --debug:custom-hive "$hive")
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
    <packageSource key="local">$mapping</packageSource>
    <packageSource key="nuget.org">
      <package pattern="*" />
    </packageSource>
  </packageSourceMapping>
  $fallback
</configuration>
XML

  step "$template: restore, build (warnings as errors) and test"
  (
    cd "$app"
    unset NUGET_PACKAGES
    dotnet restore "$name.slnx" -nologo
    dotnet build "$name.slnx" --no-restore -warnaserror -nologo -v quiet
    for expected in "$@"; do
      grep -q "<PackageReference Include=\"${expected#*=}\" Version=\"$version\"" "${expected%%=*}" ||
        { echo "$template: ${expected%%=*} does not reference ${expected#*=} $version" >&2; exit 1; }
    done
    dotnet test "$name.Tests/$name.Tests.csproj" --no-build -nologo --logger "console;verbosity=normal"
  )
  step "$template: ok"
}

for template in "${templates[@]}"; do
  case $template in
    streams-worker)
      check_template streams-worker Acme.Billing \
        Acme.Billing/Acme.Billing.csproj=Streams.Hosting Acme.Billing.Tests/Acme.Billing.Tests.csproj=Streams.Hosting.Testing ;;
    streams-webapi)
      check_template streams-webapi Acme.Storefront \
        Acme.Storefront/Acme.Storefront.csproj=Streams.Hosting Acme.Storefront/Acme.Storefront.csproj=Streams.Hosting.OpenTelemetry \
        Acme.Storefront.Tests/Acme.Storefront.Tests.csproj=Streams.Hosting.Testing ;;
  esac
done
step "ok"
