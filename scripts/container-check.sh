#!/usr/bin/env bash
# Reproduces what the container image does, where no container engine runs: publishes with the Dockerfile's
# own command (scripts/publish.sh), then starts the output the way the image's ENTRYPOINT does — from the output
# folder as working directory, as an unprivileged user, with nothing writable (the app folder and TMPDIR are
# read-only to it), every setting from the environment, the port from ASPNETCORE_HTTP_PORTS — and checks the
# page and all four transports over HTTP, then that SIGTERM stops it cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
port="${PORT:-18080}"
work=$(mktemp -d)
host=
trap 'if [ -n "$host" ]; then kill "$host" 2>/dev/null || true; fi; rm -rf "$work"' EXIT

scripts/publish.sh "$work/app" > "$work/publish.log" || { cat "$work/publish.log"; exit 1; }
mkdir "$work/tmp"
chmod -R a+rX,go-w "$work"

if curl -fsS "http://127.0.0.1:$port/healthz" > /dev/null 2>&1; then
  echo "container-check: port $port is already served by something else; set PORT"; exit 1
fi

# The image runs as an unprivileged user: as root, drop to nobody (uid 65534); otherwise we already are one.
unprivileged=()
[ "$(id -u)" -ne 0 ] || unprivileged=(setpriv --reuid=65534 --regid=65534 --clear-groups)
dotnet=$(command -v dotnet)

cd "$work/app"
env -i PATH="$PATH" HOME=/nonexistent TMPDIR="$work/tmp" \
  ASPNETCORE_HTTP_PORTS="$port" \
  Realtime__TickerEventsPerSecond=5 \
  DOTNET_NOLOGO=1 \
  "${unprivileged[@]}" "$dotnet" RealtimeDemo.dll > "$work/host.log" 2>&1 &
host=$!
cd "$root"

for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" > /dev/null 2>&1 && break
  kill -0 "$host" 2>/dev/null || { echo "container-check: the host exited at start:"; cat "$work/host.log"; exit 1; }
  sleep 0.2
done

echo "container-check: running as uid $(awk '/^Uid:/ { print $2 }' "/proc/$host/status"), working directory $(readlink "/proc/$host/cwd")"
scripts/smoke.sh "http://127.0.0.1:$port" || { cat "$work/host.log"; exit 1; }

kill -TERM "$host"
status=0
wait "$host" || status=$?
[ "$status" -eq 0 ] || { echo "container-check: exit code $status after SIGTERM"; cat "$work/host.log"; exit 1; }
grep -q "Application is shutting down" "$work/host.log" || { echo "container-check: no graceful shutdown in the log"; cat "$work/host.log"; exit 1; }
echo "container-check: ok (published output served everything as an unprivileged user, stopped cleanly on SIGTERM)"
