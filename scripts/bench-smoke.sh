#!/usr/bin/env bash
# The benchmark's smoke runs for CI, figures not judged:
# - load: every transport (SSE and WebSocket over TLS, SSE over HTTP/2 too) and every baseline, 50 clients, 5 s each
#   after 1 s of warm-up. It must deliver every event exactly once on each;
# - idle: 100 idle connections per long-lived transport (the TLS and HTTP/2 rows too) and idle baseline over one 75 s
#   window. Every connection must last the window, and every transport but the raw baselines must send its heartbeats;
# - drills: kill, restart and storm (with and without jitter) on 2 hosts behind nginx, 5 clients per technique, 2 s
#   steady phases. Every technique must lose and duplicate nothing, and be told of no gap;
# - capacity: SSE and the raw SSE baseline, 20 clients, two rising steps of 2 s after 1 s of warm-up. Every step must be
#   written with its figures, and the rate held (if any) must have lost and duplicated nothing;
# - beyond one process: 400 SSE and WebSocket connections by 2 client processes over 2 hosts on one Redis log, 2 s of
#   events. Every connection must be held, and receive every event once; each host's memory must be read.
# Each must write a well-formed results.json, a report.html and a results.md with its tables, and --render must write
# the last two again from results.json alone, leaving it as it was (and --readme the headline between its markers).
# The committed runs under wwwroot/bench (load, idle, drills, capacity, fleet), and the README's headline, must be exactly what the
# bench renders.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

bench=(dotnet run --configuration Release --project bench/RealtimeDemo.Bench)
dotnet build bench/RealtimeDemo.Bench --configuration Release --nologo --verbosity quiet

# First, since it takes seconds where the measured runs below take minutes: the committed runs' tables and report,
# and the README's headline, are what the bench writes from their results.json. Rendered again here, they must come
# out the same (a figure changed by hand does not).
for run in wwwroot/bench wwwroot/bench/idle wwwroot/bench/drills wwwroot/bench/drills/storm-10k wwwroot/bench/capacity wwwroot/bench/fleet; do
  mkdir -p "$out/committed/$run"
  cp "$run/results.json" "$out/committed/$run/"
  readme=()
  [ "$run" = wwwroot/bench ] && cp README.md "$out/committed/README.md" && readme=(--readme "$out/committed/README.md")
  "${bench[@]}" --no-build -- --render "$out/committed/$run" "${readme[@]}"
  for file in results.md report.html; do
    cmp "$out/committed/$run/$file" "$run/$file" || { echo "bench-smoke: $run/$file is not what the bench renders from its results.json"; exit 1; }
  done
done
cmp "$out/committed/README.md" README.md || { echo "bench-smoke: README.md's headline is not what the bench renders"; exit 1; }

# A measured run's tables and report are what the bench renders from its results.json alone.
rendered_alike() {
  mkdir "$out/$1-measured"
  cp "$out/$1/results.md" "$out/$1/report.html" "$out/$1-measured/"
  "${bench[@]}" --no-build -- --render "$out/$1"
  for file in results.md report.html; do
    cmp "$out/$1/$file" "$out/$1-measured/$file" || { echo "bench-smoke: $1 $file is not what --render writes"; exit 1; }
  done
}

# The drills start their own Redis and nginx (installed when missing) and stop them again.
"${bench[@]}" --no-build -- --drill kill,restart,storm --hosts 2 --clients 5 --rate 20 --seconds 2 --out "$out/drills"
cp "$out/drills/results.json" "$out/drills.json"
"${bench[@]}" --no-build -- --render "$out/drills"
cmp "$out/drills/results.json" "$out/drills.json"

# Beyond one process: the bench starts its own client processes, hosts and Redis, and stops them again.
"${bench[@]}" --no-build -- --fleet 400 --hosts 2 --client-processes 2 --rate 5 --seconds 2 --out "$out/fleet"
rendered_alike fleet

"${bench[@]}" --no-build -- --clients 50 --rate 20 --seconds 5 --warmup 1 --out "$out/load"
"${bench[@]}" --no-build -- --idle 100 --out "$out/idle"
cp "$out/load/results.json" "$out/measured.json"
"${bench[@]}" --no-build -- --capacity --transports sse --baselines raw-sse --clients 20 --rate 20 --seconds 2 --warmup 1 --steps 2 \
  --out "$out/capacity"
rendered_alike capacity
rm "$out/load/report.html" "$out/load/results.md"
printf '# Bench\n<!-- bench:headline:start -->\nby hand\n<!-- bench:headline:end -->\n' > "$out/README.md"
"${bench[@]}" --no-build -- --render "$out/load" --readme "$out/README.md"
cmp "$out/load/results.json" "$out/measured.json"

node - "$out" <<'JS'
const fs = require('fs');
const path = require('path');
const problems = [];

// One mode's results.json: a run for each expected name, every field a number, and the mode's own checks per run.
function check(mode, list, expected, fields, checkRun) {
  const report = JSON.parse(fs.readFileSync(path.join(process.argv[2], mode, 'results.json'), 'utf8'));
  const runs = report[list];
  const names = runs.map((run) => run.transport);
  for (const name of expected) if (!names.includes(name)) problems.push(`${mode}: no run for ${name}`);
  for (const run of runs) {
    for (const field of fields) {
      const value = field.split('.').reduce((object, key) => object?.[key], run);
      if (typeof value !== 'number') problems.push(`${mode}: ${run.transport}: ${field} is not a number`);
    }
    checkRun(run, (problem) => problems.push(`${mode}: ${run.transport}: ${problem}`));
  }
  const html = path.join(process.argv[2], mode, 'report.html');
  if (!fs.existsSync(html) || fs.statSync(html).size === 0) problems.push(`${mode}: no report.html`);
  const md = path.join(process.argv[2], mode, 'results.md');
  const table = mode === 'load' ? '| transport | clients | deliveries/s |' : '| transport | connections |';
  const markdown = fs.existsSync(md) ? fs.readFileSync(md, 'utf8') : '';
  if (!markdown.includes(table)) problems.push(`${mode}: no results.md with its table`);
  if (!markdown.includes('## TLS and HTTP/2 against cleartext HTTP/1.1')) problems.push(`${mode}: results.md has no TLS and HTTP/2 table`);
  return runs.length;
}

// sse-h2 multiplexes its streams on HTTP/2 connections, and says how many on each.
const multiplexed = (run, problem) => {
  if (run.transport === 'sse-h2' && !(run.streamsPerConnection > 0)) problem(`streamsPerConnection is ${run.streamsPerConnection}`);
};

const load = check('load', 'runs',
  ['short-poll', 'long-poll', 'sse', 'websocket', 'sse-tls', 'websocket-tls', 'sse-h2',
    'raw-websocket', 'raw-sse', 'signalr-websockets', 'signalr-sse', 'signalr-longpolling'],
  ['clients', 'rate', 'deliveriesPerSecond', 'lost', 'duplicated', 'requests', 'emptyResponses', 'bytesPerEvent',
    'serverCpuSecondsPer1000', 'serverPeakRssBytes', 'latencyMs.p50', 'latencyMs.p95', 'latencyMs.p99', 'latencyMs.max'],
  (run, problem) => {
    if (run.lost !== 0 || run.duplicated !== 0) problem(`${run.lost} lost, ${run.duplicated} duplicated`);
    if (!(run.deliveriesPerSecond > 0)) problem('nothing delivered');
    multiplexed(run, problem);
  });

// The raw baselines send nothing while idle; every other transport keeps its connection alive on the wire.
const silent = ['raw-websocket', 'raw-sse'];
const idle = check('idle', 'idleRuns',
  ['long-poll', 'sse', 'websocket', 'sse-tls', 'websocket-tls', 'sse-h2', 'raw-websocket', 'raw-sse', 'signalr-websockets'],
  ['connections', 'serverRssBeforeBytes', 'serverRssAfterBytes', 'memoryPerConnectionBytes', 'heartbeatBytesPerConnectionPerMinute', 'endedEarly'],
  (run, problem) => {
    if (run.endedEarly !== 0) problem(`${run.endedEarly} connections ended before the window did`);
    const heartbeats = run.heartbeatBytesPerConnectionPerMinute;
    if (silent.includes(run.transport) ? heartbeats !== 0 : !(heartbeats > 0)) problem(`${heartbeats} heartbeat bytes per connection per minute`);
    multiplexed(run, problem);
  });

// Every drill, every technique: each event once, no gap; the figures themselves are not judged.
const drillReport = JSON.parse(fs.readFileSync(path.join(process.argv[2], 'drills', 'results.json'), 'utf8'));
const drills = drillReport.drills || [];
for (const [kind, jitter] of [['kill', true], ['restart', true], ['storm', true], ['storm', false]]) {
  for (const transport of ['short-poll', 'long-poll', 'sse', 'websocket']) {
    const run = drills.find((d) => d.kind === kind && d.jitter === jitter && d.transport === transport);
    const name = `drills: ${kind}${jitter ? '' : ' without jitter'}: ${transport}`;
    if (!run) { problems.push(`${name}: did not run`); continue; }
    for (const field of ['clients', 'delivered', 'lost', 'duplicated', 'gapSignals', 'reconnects', 'refused', 'peakConnectsPerSecond']) {
      if (typeof run[field] !== 'number') problems.push(`${name}: ${field} is not a number`);
    }
    if (run.lost !== 0 || run.duplicated !== 0 || run.gapSignals !== 0) problems.push(`${name}: ${run.lost} lost, ${run.duplicated} duplicated, ${run.gapSignals} gap signals`);
    if (!(run.delivered > 0)) problems.push(`${name}: nothing delivered`);
    if (!Array.isArray(run.timeline?.deliveries) || run.timeline.deliveries.length === 0) problems.push(`${name}: no timeline`);
  }
}
const drillsMd = fs.readFileSync(path.join(process.argv[2], 'drills', 'results.md'), 'utf8');
if (!drillsMd.includes('## Drills\n')) problems.push('drills: results.md has no drills table');
if (!fs.readFileSync(path.join(process.argv[2], 'drills', 'report.html'), 'utf8').includes('<section id="drills">')) problems.push('drills: report.html has no drills section');

// Capacity: every step written with its figures; the rate held, if any, one of the steps, with nothing lost or duplicated.
const capacity = JSON.parse(fs.readFileSync(path.join(process.argv[2], 'capacity', 'results.json'), 'utf8')).capacity || [];
for (const name of ['sse', 'raw-sse']) if (!capacity.some((run) => run.transport === name)) problems.push(`capacity: no run for ${name}`);
for (const run of capacity) {
  const problem = (text) => problems.push(`capacity: ${run.transport}: ${text}`);
  if (!['p99', 'lost', 'ceiling', 'steps', 'failed'].includes(run.stoppedBy)) problem(`stoppedBy is ${run.stoppedBy}`);
  if (!(run.steps.length > 0 && run.steps.length <= 2)) problem(`${run.steps.length} steps`);
  for (const step of run.steps) {
    for (const field of ['rate', 'deliveriesPerSecond', 'deliveriesPerCpuSecond', 'p50Ms', 'p99Ms', 'lost', 'duplicated']) {
      if (typeof step[field] !== 'number') problem(`a step's ${field} is not a number`);
    }
  }
  if (run.rate !== null) {
    const held = run.steps.find((step) => step.rate === run.rate);
    if (!held || !held.held || held.lost !== 0 || held.duplicated !== 0) problem(`the rate held, ${run.rate}, is not a clean step`);
    for (const field of ['deliveriesPerSecond', 'deliveriesPerCpuSecond', 'p99Ms']) if (typeof run[field] !== 'number') problem(`${field} is not a number`);
  }
}
const capacityMarkdown = fs.readFileSync(path.join(process.argv[2], 'capacity', 'results.md'), 'utf8');
if (!capacityMarkdown.includes('## Capacity') || !capacityMarkdown.includes('| transport | clients | events/s held |')) problems.push('capacity: no results.md with its table');
if (!fs.readFileSync(path.join(process.argv[2], 'capacity', 'report.html'), 'utf8').includes('id="capacity-figures"')) problems.push('capacity: report.html has no capacity figures');

// Beyond one process: every connection held, every event at every one once, each host's memory read.
const fleet = JSON.parse(fs.readFileSync(path.join(process.argv[2], 'fleet', 'results.json'), 'utf8')).fleet || [];
for (const name of ['sse', 'websocket']) if (!fleet.some((run) => run.transport === name)) problems.push(`fleet: no run for ${name}`);
for (const run of fleet) {
  const problem = (text) => problems.push(`fleet: ${run.transport}: ${text}`);
  if (run.held !== run.connections) problem(`${run.held} of ${run.connections} connections held`);
  if (!(run.published > 0) || run.delivered !== run.published * run.connections) problem(`${run.delivered} delivered of ${run.published} published to ${run.connections}`);
  if (run.lost !== 0 || run.duplicated !== 0 || run.gapSignals !== 0) problem(`${run.lost} lost, ${run.duplicated} duplicated, ${run.gapSignals} gap signals`);
  const hosts = [...run.perHost, run.singleHost];
  if (run.perHost.length !== 2 || hosts.some((host) => !(host.rssBeforeBytes > 0 && host.rssAfterBytes > 0))) problem('a host\'s memory was not read');
}
const fleetMarkdown = fs.readFileSync(path.join(process.argv[2], 'fleet', 'results.md'), 'utf8');
if (!fleetMarkdown.includes('## Beyond one process')) problems.push('fleet: results.md has no fleet table');
if (!fs.readFileSync(path.join(process.argv[2], 'fleet', 'report.html'), 'utf8').includes('id="fleet-figures"')) problems.push('fleet: report.html has no fleet figures');

const readme = fs.readFileSync(path.join(process.argv[2], 'README.md'), 'utf8');
if (!readme.includes('| technique |') || readme.includes('by hand')) problems.push('--readme: no headline between the markers');

if (problems.length) { console.error(`bench-smoke: ${problems.join('\n')}`); process.exit(1); }
console.log(`bench-smoke: ok (load: ${load} runs, none lost or duplicated; idle: ${idle} runs, every connection held for the window; `
  + `drills: ${drills.length} runs, none lost, duplicated or told of a gap; capacity: ${capacity.length} runs; `
  + `fleet: ${fleet.length} runs, every event at every connection)`);
JS
