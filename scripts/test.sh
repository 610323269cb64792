#!/usr/bin/env bash
# Runs the whole test suite. Extra arguments go to `dotnet test` (e.g. --filter Sse).
set -euo pipefail
cd "$(dirname "$0")/.."

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# No build servers or reusable MSBuild nodes left running after the suite.
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0 UseSharedCompilation=false

# Tests that need real components start them themselves: Debian's Chromium for the browser tests (Playwright
# never downloads a browser here), nginx for the reverse-proxy tests and redis-server for the shared-log tests
# (not needed when REDIS_URL names a running server). Under CI they must be installed;
# elsewhere the tests skip, saying why, when they cannot be.
packages=()
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || packages+=(chromium)
[ -x "${NGINX_PATH:-/usr/sbin/nginx}" ] || packages+=(nginx)
[ -n "${REDIS_URL:-}" ] || [ -x "${REDIS_SERVER_PATH:-/usr/bin/redis-server}" ] || packages+=(redis-server)
if [ ${#packages[@]} -gt 0 ]; then
  ci="$(printf '%s' "${CI:-}" | tr -d '[:space:]')"
  if [ "${ci,,}" = "true" ] || [ "$ci" = "1" ]; then # what the tests take for CI, too
    scripts/ensure-packages.sh "${packages[@]}"
  else
    scripts/ensure-packages.sh "${packages[@]}" || echo "test.sh: could not install ${packages[*]}; the tests that need them will be skipped." >&2
  fi
fi

dotnet test RealtimeDemo.sln --configuration Release --logger "console;verbosity=normal" "$@"
