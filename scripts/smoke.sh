#!/usr/bin/env bash
# Checks a running host over real HTTP: the page, health, a publish, and each of the four transports
# delivering that event as documented.
# Over https, it also checks that the page is served over HTTP/2 (ALPN), and takes the host's certificate as it is
# (in Development the host may serve one it made for itself, which nothing trusts).
# Usage: scripts/smoke.sh http://127.0.0.1:5000 | https://localhost:5001
set -euo pipefail
base="${1:?usage: smoke.sh BASE_URL}"

fail() { echo "smoke: $*" >&2; exit 1; }
check() { echo "smoke: ok  $*"; }
tls=()
[[ "$base" == https://* ]] && tls=(--insecure)
curl() { command curl "${tls[@]}" "$@"; }

# Responses are read whole before grep: with pipefail, `curl | grep -q` fails whenever grep stops reading early.
page=$(curl -fsS "$base/") || fail "GET / failed"
grep -q "RealtimeDemo" <<< "$page" || fail "the page is not served at /"
check "GET / serves the page"
if [ ${#tls[@]} -gt 0 ]; then
  version=$(curl -fsS --http2 -o /dev/null -w '%{http_version}' "$base/") || fail "GET / over TLS failed"
  [ "$version" = "2" ] || fail "GET / over TLS used HTTP/$version, not HTTP/2"
  check "GET / over TLS speaks HTTP/2"
fi
[ "$(curl -fsS "$base/healthz")" = "Healthy" ] || fail "/healthz is not Healthy"
check "GET /healthz"

published=$(curl -fsS -H 'Content-Type: application/json' -d '{"type":"smoke","data":{"n":1}}' "$base/api/events")
id=$(sed -nE 's/.*"id":"([^"]+)".*/\1/p' <<< "$published")
[ -n "$id" ] || fail "POST /api/events returned no id: $published"
check "POST /api/events -> $id"

# Every transport, asked for what follows the event just before ours, must deliver ours.
epoch="${id%-*}"
before="$epoch-$(( ${id##*-} - 1 ))"

poll=$(curl -fsS "$base/api/poll?after=$before") || fail "GET /api/poll failed"
grep -q "\"id\":\"$id\"" <<< "$poll" || fail "/api/poll did not deliver $id: $poll"
check "GET /api/poll delivers it"
longpoll=$(curl -fsS "$base/api/longpoll?after=$before&timeout=1") || fail "GET /api/longpoll failed"
grep -q "\"id\":\"$id\"" <<< "$longpoll" || fail "/api/longpoll did not deliver $id: $longpoll"
check "GET /api/longpoll delivers it"

sse=$(curl -sS -N --max-time 2 "$base/api/sse?after=$before" 2>/dev/null || true)
grep -q '^retry: ' <<< "$sse" || fail "/api/sse sent no retry hint"
grep -q "^id: $id" <<< "$sse" || fail "/api/sse did not deliver $id"
check "GET /api/sse delivers it"

# Server frames are not masked, so the event's JSON is readable in the raw bytes that follow the 101.
upgrade=$(curl -sS -i -N --http1.1 --max-time 2 \
  -H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' \
  -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' "$base/ws?after=$before" 2>/dev/null | tr -d '\0' || true)
status=$(head -1 <<< "$upgrade")
grep -q ' 101' <<< "$status" || fail "/ws did not upgrade: $status"
grep -aq '"control":"welcome"' <<< "$upgrade" || fail "/ws sent no welcome"
grep -aq "\"id\":\"$id\"" <<< "$upgrade" || fail "/ws did not deliver $id"
check "GET /ws upgrades (101), welcomes and delivers it"
