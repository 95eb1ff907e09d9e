#!/usr/bin/env bash
# Keeps the public API baselines (src/*/PublicAPI.Shipped.txt, src/*/PublicAPI.Unshipped.txt) in step with the code.
# Microsoft.CodeAnalysis.PublicApiAnalyzers reports a public symbol missing from both files as RS0016 and a declared
# symbol that no longer exists as RS0017; the build (-warnaserror) fails on either. This script rebuilds the src/
# projects (no incremental build, so every diagnostic is reported again), then
#   RS0016  adds the symbol to that project's PublicAPI.Unshipped.txt;
#   RS0017  removes the line from PublicAPI.Unshipped.txt, or, when the line is in PublicAPI.Shipped.txt, adds
#           `*REMOVED*<line>` to PublicAPI.Unshipped.txt (the analyzer's marker for a removed shipped API);
# keeps each Unshipped file sorted under its `#nullable enable` header, and rebuilds to check that no RS0016/RS0017
# is left. Review the diff: it is the public API change.
# Usage: scripts/public-api.sh [--check] [--configuration Release|Debug] [PROJECT.csproj...]
#   --check   change nothing: list the RS0016/RS0017 diagnostics and exit 1 if there are any
#   PROJECT   only these projects (default: every src/*/*.csproj)
# At a release, move the Unshipped lines into Shipped (`*REMOVED*` lines delete their Shipped line).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
configuration=Release
check=0
projects=()
while (($#)); do
  case $1 in
    --check) check=1; shift ;;
    --configuration | -c) configuration=$2; shift 2 ;;
    -*) echo "unknown option: $1" >&2; exit 2 ;;
    *)
      [[ -f $1 && $1 == *.csproj ]] || { echo "not a project file: $1" >&2; exit 2; }
      projects+=("$(realpath --relative-to="$root" "$1")"); shift ;;
  esac
done
((${#projects[@]})) || mapfile -t projects < <(ls src/*/*.csproj)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0

work=$(mktemp -d "${TMPDIR:-/tmp}/streams-public-api.XXXXXX")
trap 'rm -rf "$work"' EXIT

for project in "${projects[@]}"; do
  dir=$(dirname "$project")
  for file in PublicAPI.Shipped.txt PublicAPI.Unshipped.txt; do
    if [[ ! -f $dir/$file ]]; then
      ((check)) && { echo "$dir/$file is missing" >&2; exit 1; }
      printf '#nullable enable\n' >"$dir/$file"
    fi
  done
done

# diagnostics: rebuilds the projects (one build, through a solution filter) and writes "project<TAB>code<TAB>symbol"
# lines, one per RS0016/RS0017, to $work/diagnostics. Fails when the build fails for another reason.
diagnostics() {
  local filter=$root/artifacts/public-api.slnf list="" project
  mkdir -p "$root/artifacts"
  for project in "${projects[@]}"; do
    grep -qF "${project//\//\\}" Streams.Hosting.sln ||
      { echo "$project is not in Streams.Hosting.sln" >&2; exit 1; }
    list+="${list:+,}\"${project//\//\\\\}\""
  done
  printf '{"solution":{"path":"../Streams.Hosting.sln","projects":[%s]}}\n' "$list" >"$filter"
  # RS0016/RS0017 stay warnings here (so every project reports all of them); any other warning still fails.
  if ! dotnet build "$filter" -c "$configuration" --no-incremental -nologo -clp:NoSummary \
    -p:TreatWarningsAsErrors=true -p:WarningsNotAsErrors="RS0016%3BRS0017" >"$work/build.log" 2>&1; then
    grep -E ' error ' "$work/build.log" | sort -u >&2 || tail -n 30 "$work/build.log" >&2
    echo "the build failed (above); fix that first" >&2
    exit 1
  fi
  sed -nE "s/^.*warning (RS0016|RS0017): Symbol '(.*)' (is not part of the declared public API|is part of the declared API, but is either not public or could not be found).*\[([^]]*\.csproj)\]\s*$/\4\t\1\t\2/p" \
    "$work/build.log" | sort -u >"$work/diagnostics"
  # A diagnostic line this script could not read would be dropped silently: refuse instead.
  local seen parsed
  seen=$(grep -cE 'warning (RS0016|RS0017):' "$work/build.log" | head -n1 || true)
  parsed=$(wc -l <"$work/diagnostics")
  if ((seen > 0 && parsed == 0)); then
    grep -E 'warning (RS0016|RS0017):' "$work/build.log" | head -n 5 >&2
    echo "could not read the RS0016/RS0017 diagnostics above" >&2
    exit 1
  fi
}

# sort_unshipped FILE: `#nullable enable` first, then the lines sorted (ordinal), no duplicates or blank lines.
sort_unshipped() {
  local file=$1
  { echo '#nullable enable'; { grep -vxF '#nullable enable' "$file" || true; } | { grep -v '^\s*$' || true; } | LC_ALL=C sort -u; } >"$work/sorted"
  cat "$work/sorted" >"$file"
}

diagnostics
if ((check)); then
  if [[ -s $work/diagnostics ]]; then
    awk -F'\t' '{ print $1 ": " $2 " " $3 }' "$work/diagnostics" | sed "s|^$root/||"
    echo "$(wc -l <"$work/diagnostics") public API difference(s): run scripts/public-api.sh and review the diff" >&2
    exit 1
  fi
  echo "public API baselines match the code (${#projects[@]} projects)"
  exit 0
fi

added=0 removed=0
while IFS=$'\t' read -r project code symbol; do
  dir=$(dirname "$project")
  shipped=$dir/PublicAPI.Shipped.txt unshipped=$dir/PublicAPI.Unshipped.txt
  case $code in
    RS0016)
      grep -qxF -- "$symbol" "$unshipped" || { printf '%s\n' "$symbol" >>"$unshipped"; added=$((added + 1)); } ;;
    RS0017)
      if grep -qxF -- "$symbol" "$unshipped"; then
        grep -vxF -- "$symbol" "$unshipped" >"$work/kept" || true
        cat "$work/kept" >"$unshipped"
      elif grep -qxF -- "$symbol" "$shipped"; then
        grep -qxF -- "*REMOVED*$symbol" "$unshipped" || printf '*REMOVED*%s\n' "$symbol" >>"$unshipped"
      else
        echo "RS0017 for a line in neither file of $dir: $symbol" >&2
        exit 1
      fi
      removed=$((removed + 1)) ;;
  esac
done <"$work/diagnostics"
for project in "${projects[@]}"; do
  sort_unshipped "$(dirname "$project")/PublicAPI.Unshipped.txt"
done
echo "added $added, removed $removed public API line(s)"

diagnostics
if [[ -s $work/diagnostics ]]; then
  awk -F'\t' '{ print $1 ": " $2 " " $3 }' "$work/diagnostics" | sed "s|^$root/||" >&2
  echo "public API diagnostics remain after the update (above)" >&2
  exit 1
fi
git -C "$root" --no-pager diff --stat -- 'src/*/PublicAPI.*.txt' || true
echo "public API baselines match the code (${#projects[@]} projects)"
