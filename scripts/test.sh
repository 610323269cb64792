#!/usr/bin/env bash
# Runs the whole test suite. Extra arguments go to `dotnet test` (e.g. --filter Sse).
set -euo pipefail
cd "$(dirname "$0")/.."

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# The browser tests drive Debian's Chromium (Playwright never downloads a browser here). Under CI it must be
# installed; elsewhere the tests skip, saying why, when it cannot be.
chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  if [ "${CI:-}" = "true" ]; then
    scripts/ensure-packages.sh chromium
  else
    scripts/ensure-packages.sh chromium || echo "test.sh: could not install chromium; the browser tests will be skipped." >&2
  fi
fi

dotnet test RealtimeDemo.sln --configuration Release --logger "console;verbosity=normal" "$@"
