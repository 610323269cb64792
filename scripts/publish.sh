#!/usr/bin/env bash
# Publishes the host, framework-dependent, into OUT_DIR (default: ./publish). The Dockerfile and CI both run
# this script, so the image and what CI checks are built the same way.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-publish}"

dotnet publish src/RealtimeDemo/RealtimeDemo.csproj \
  --configuration Release \
  --output "$out" \
  -p:UseAppHost=false
