#!/usr/bin/env bash
# Runs the whole test suite. Extra arguments go to `dotnet test` (e.g. --filter Sse).
set -euo pipefail
cd "$(dirname "$0")/.."

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

dotnet test RealtimeDemo.sln --configuration Release --logger "console;verbosity=normal" "$@"
