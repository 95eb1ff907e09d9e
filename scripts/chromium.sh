#!/usr/bin/env bash
# Debian's chromium and chromium-driver for the dashboard's browser test (tests/Streams.Hosting.AspNetCore.Tests,
# Selenium against /usr/bin/chromium and /usr/bin/chromedriver, headless).
#
#   scripts/chromium.sh        installs both with apt-get when either is missing (as root, or through sudo), then
#                              prints their versions; exits non-zero when they cannot be installed
#
# build.sh test runs it before the tests. The test itself fails (it never skips) when the browser is missing.
set -euo pipefail

if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
  echo "chromium: $(/usr/bin/chromium --version 2>/dev/null | tail -n1); $(/usr/bin/chromedriver --version)"
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then sudo=(); elif command -v sudo >/dev/null; then sudo=(sudo); else
  echo "scripts/chromium.sh: chromium/chromium-driver are missing and installing them needs root (apt-get install chromium chromium-driver)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
echo "chromium: $(/usr/bin/chromium --version 2>/dev/null | tail -n1); $(/usr/bin/chromedriver --version)"
