#!/usr/bin/env bash
# The benchmark's smoke runs for CI, figures not judged:
# - load: every transport and every baseline, 50 clients, 5 s each after 1 s of warm-up. It must deliver every event
#   exactly once on each, and write a well-formed results.json and a report.html;
# - idle: 100 idle connections per long-lived transport and idle baseline over one 75 s window. Every connection must
#   last the window, and each of ours must have sent its heartbeats.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

dotnet run --configuration Release --project bench/RealtimeDemo.Bench -- --clients 50 --rate 20 --seconds 5 --warmup 1 --out "$out"

node - "$out/results.json" <<'JS'
const fs = require('fs');
const report = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const expected = ['short-poll', 'long-poll', 'sse', 'websocket',
  'raw-websocket', 'raw-sse', 'signalr-websockets', 'signalr-sse', 'signalr-longpolling'];
const problems = [];
const names = report.runs.map((run) => run.transport);
for (const name of expected) if (!names.includes(name)) problems.push(`no run for ${name}`);
for (const run of report.runs) {
  for (const field of ['clients', 'rate', 'deliveriesPerSecond', 'lost', 'duplicated', 'requests', 'emptyResponses', 'bytesPerEvent', 'serverCpuSecondsPer1000', 'serverPeakRssBytes']) {
    if (typeof run[field] !== 'number') problems.push(`${run.transport}: ${field} is not a number`);
  }
  for (const q of ['p50', 'p95', 'p99', 'max']) {
    if (typeof run.latencyMs?.[q] !== 'number') problems.push(`${run.transport}: latencyMs.${q} is not a number`);
  }
  if (run.lost !== 0 || run.duplicated !== 0) problems.push(`${run.transport}: ${run.lost} lost, ${run.duplicated} duplicated`);
  if (!(run.deliveriesPerSecond > 0)) problems.push(`${run.transport}: nothing delivered`);
}
if (problems.length) { console.error(`bench-smoke: ${problems.join('\n')}`); process.exit(1); }
console.log(`bench-smoke: ok (${report.runs.length} runs, none lost or duplicated)`);
JS
[ -s "$out/report.html" ] || { echo "bench-smoke: no report.html"; exit 1; }

dotnet run --configuration Release --project bench/RealtimeDemo.Bench -- --idle 100 --out "$out/idle"

node - "$out/idle/results.json" <<'JS'
const fs = require('fs');
const report = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const expected = ['long-poll', 'sse', 'websocket', 'raw-websocket', 'raw-sse', 'signalr-websockets'];
// The raw baselines send nothing while idle; every other transport keeps its connection alive on the wire.
const silent = ['raw-websocket', 'raw-sse'];
const problems = [];
const names = report.idleRuns.map((run) => run.transport);
for (const name of expected) if (!names.includes(name)) problems.push(`no idle run for ${name}`);
for (const run of report.idleRuns) {
  for (const field of ['connections', 'serverRssBeforeBytes', 'serverRssAfterBytes', 'memoryPerConnectionBytes', 'heartbeatBytesPerConnectionPerMinute', 'endedEarly']) {
    if (typeof run[field] !== 'number') problems.push(`${run.transport}: ${field} is not a number`);
  }
  if (run.connections !== 100) problems.push(`${run.transport}: ${run.connections} connections, not 100`);
  if (run.endedEarly !== 0) problems.push(`${run.transport}: ${run.endedEarly} connections ended before the window did`);
  const heartbeats = run.heartbeatBytesPerConnectionPerMinute;
  if (silent.includes(run.transport) ? heartbeats !== 0 : !(heartbeats > 0)) problems.push(`${run.transport}: ${heartbeats} heartbeat bytes per connection per minute`);
}
if (report.runs.length) problems.push(`idle mode recorded ${report.runs.length} load runs`);
if (problems.length) { console.error(`bench-smoke (idle): ${problems.join('\n')}`); process.exit(1); }
console.log(`bench-smoke (idle): ok (${report.idleRuns.length} runs, every connection held for the window)`);
JS
[ -s "$out/idle/report.html" ] || { echo "bench-smoke (idle): no report.html"; exit 1; }
