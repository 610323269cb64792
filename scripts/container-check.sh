#!/usr/bin/env bash
# Reproduces what the container image does, where no container engine runs: publishes with the Dockerfile's
# own command (scripts/publish.sh), then starts the output the way the image's ENTRYPOINT does — from the output
# folder as working directory, as an unprivileged user, with nothing writable (the app folder and TMPDIR are
# read-only to it), every setting from the environment, the port from ASPNETCORE_HTTP_PORTS — and checks the
# page and all four transports over HTTP, then that SIGTERM stops it cleanly. Then the same over HTTPS, with a
# PEM certificate given through the standard settings (ASPNETCORE_HTTPS_PORTS, Kestrel__Certificates__Default__*).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
port="${PORT:-18080}"
tls_port="${TLS_PORT:-18443}"
work=$(mktemp -d)
host=
trap 'if [ -n "$host" ]; then kill "$host" 2>/dev/null || true; fi; rm -rf "$work"' EXIT

scripts/publish.sh "$work/app" > "$work/publish.log" || { cat "$work/publish.log"; exit 1; }
mkdir "$work/tmp"
chmod -R a+rX,go-w "$work"

for p in "$port" "$tls_port"; do
  if curl -ksS "https://127.0.0.1:$p/healthz" > /dev/null 2>&1 || curl -fsS "http://127.0.0.1:$p/healthz" > /dev/null 2>&1; then
    echo "container-check: port $p is already served by something else; set PORT and TLS_PORT"; exit 1
  fi
done

# The image runs as an unprivileged user: as root, drop to nobody (uid 65534); otherwise we already are one.
unprivileged=()
[ "$(id -u)" -ne 0 ] || unprivileged=(setpriv --reuid=65534 --regid=65534 --clear-groups)
dotnet=$(command -v dotnet)

# Starts the published output as the image does, with any further settings (NAME=value) given, and waits for it.
start() {
  cd "$work/app"
  env -i PATH="$PATH" HOME=/nonexistent TMPDIR="$work/tmp" \
    ASPNETCORE_HTTP_PORTS="$port" \
    Realtime__TickerEventsPerSecond=5 \
    DOTNET_NOLOGO=1 \
    "$@" \
    "${unprivileged[@]}" "$dotnet" RealtimeDemo.dll > "$work/host.log" 2>&1 &
  host=$!
  cd "$root"
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/healthz" > /dev/null 2>&1 && return 0
    kill -0 "$host" 2>/dev/null || { echo "container-check: the host exited at start:"; cat "$work/host.log"; exit 1; }
    sleep 0.2
  done
}

# Stops it with SIGTERM, which must end it cleanly.
stop() {
  kill -TERM "$host"
  local status=0
  wait "$host" || status=$?
  host=
  [ "$status" -eq 0 ] || { echo "container-check: exit code $status after SIGTERM"; cat "$work/host.log"; exit 1; }
  grep -q "Application is shutting down" "$work/host.log" || { echo "container-check: no graceful shutdown in the log"; cat "$work/host.log"; exit 1; }
}

start
echo "container-check: running as uid $(awk '/^Uid:/ { print $2 }' "/proc/$host/status"), working directory $(readlink "/proc/$host/cwd")"
scripts/smoke.sh "http://127.0.0.1:$port" || { cat "$work/host.log"; exit 1; }
stop

# HTTPS: a PEM certificate and key as a deployment mounts them (readable by the app's user, as in the image).
scripts/ensure-packages.sh openssl
mkdir "$work/certs"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -keyout "$work/certs/key.pem" -out "$work/certs/cert.pem" 2> "$work/openssl.log" || { cat "$work/openssl.log"; exit 1; }
chmod -R a+rX "$work/certs"
start ASPNETCORE_HTTPS_PORTS="$tls_port" \
  Kestrel__Certificates__Default__Path="$work/certs/cert.pem" \
  Kestrel__Certificates__Default__KeyPath="$work/certs/key.pem"
scripts/smoke.sh "https://127.0.0.1:$tls_port" || { cat "$work/host.log"; exit 1; }
stop

echo "container-check: ok (published output served everything over HTTP and HTTPS as an unprivileged user, stopped cleanly on SIGTERM)"
