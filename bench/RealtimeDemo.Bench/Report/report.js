// Draws report.html from its two JSON blocks: "results" (the run's results.json) and "figures" (what the bench derives
// from it: the targets judged, the date and workload as written, each table row as the console writes it).
// The charts and the formatting of figures come from charts.js (`Charts`); nothing is fetched.
(() => {
  'use strict';

  const {
    MISSING, finite, fixed, count, plain, number, latency, html, kind,
    barChart, latencyChart, buckets, bulk, histogram,
  } = Charts;

  const results = JSON.parse(document.getElementById('results').textContent);
  const figures = JSON.parse(document.getElementById('figures').textContent);
  const idleMode = results.settings.idle > 0;

  const byId = (id) => document.getElementById(id);
  const show = (id) => { byId(id).hidden = false; };

  // ---- runs ----------------------------------------------------------------------------------------------------

  const rank = (run) => !run.baseline ? 0 : run.transport.startsWith('raw-') ? 1 : 2;

  /** Ours first, then the raw baselines, then SignalR's; each entry keeps its index into the results. */
  const ordered = (list) => list.map((run, index) => ({ run, index }))
    .sort((a, b) => rank(a.run) - rank(b.run) || a.index - b.index);

  const runs = ordered(results.runs);
  const idleRuns = ordered(results.idleRuns);

  const tname = (run) => html('span', { class: `tname ${kind(run)}` }, [html('i', { class: `sw ${kind(run)}` }), run.transport]);

  // ---- sections ------------------------------------------------------------------------------------------------

  function header() {
    const statuses = figures.targets.map((target) => target.status);
    const met = statuses.filter((status) => status === 'met').length;
    const missed = statuses.filter((status) => status === 'missed').length;
    const na = statuses.length - met - missed;
    const s = results.settings;

    document.title = `RealtimeDemo bench · ${results.machine} · ${figures.date}`;
    byId('machine').textContent = results.machine;
    byId('date').textContent = figures.date;
    byId('date').setAttribute('datetime', results.startedAt);
    byId('workload').textContent = `${figures.workload}.`;

    const score = byId('score');
    score.classList.add(missed === 0 && met > 0 ? 'met' : missed > 0 ? 'missed' : 'na');
    score.append(html('b', {}, [String(met), html('small', {}, `/${met + missed}`)]), html('span', {}, 'targets met'));
    if (missed > 0) score.append(html('em', {}, `${missed} missed`));
    if (na > 0) score.append(html('em', { class: 'na' }, `${na} n/a`));

    const transports = (list) => `${list.filter(({ run }) => !run.baseline).length} + ${list.filter(({ run }) => run.baseline).length} baselines`;
    // Idle mode publishes nothing, so none of the load's settings apply.
    const facts = idleMode
      ? [['idle connections / transport', count(s.idle)], ['seconds measured', count(s.seconds)], ['transports', transports(idleRuns)]]
      : [
        ['clients / transport', count(s.clients)], ['events / s', plain(s.rate)], ['seconds / transport', count(s.seconds)],
        ['warm-up, not measured', `${count(s.warmupSeconds)} s`], ['short-poll interval', `${plain(s.pollIntervalSeconds)} s`],
        ['transports', transports(runs)], ['deliveries', count(runs.reduce((sum, { run }) => sum + run.delivered, 0))],
      ];
    byId('facts').append(...facts.map(([name, value]) => html('div', {}, [html('dt', {}, name), html('dd', {}, value)])));
  }

  /** Shows a section's notes for this run's mode only. */
  const modeNotes = (id) => {
    for (const note of byId(id).querySelectorAll('[data-mode]')) note.hidden = note.dataset.mode !== (idleMode ? 'idle' : 'load');
  };

  function targets() {
    modeNotes('targets');
    const marks = { met: '✓', missed: '✗' };
    const css = { met: 'met', missed: 'missed' };
    byId('checks').append(...figures.targets.map((target) => html('li', { class: css[target.status] || 'na' }, [
      html('span', { class: 'pill', 'aria-hidden': 'true' }, marks[target.status] || '–'),
      html('span', { class: 'name' }, [`${target.name} `, html('span', { class: 'status' }, target.status)]),
      html('span', { class: 'detail' }, target.detail),
    ])));
  }

  const bar = (run, value, text) => ({ label: run.transport, kind: kind(run), value, text });
  const figure = (id, chart) => byId(id).append(chart);

  function loadSections() {
    if (runs.length === 0) return;
    show('latency');
    byId('latency-chart').append(latencyChart(runs));

    const drawn = runs.filter(({ run }) => buckets(run).length > 0);
    if (drawn.length > 0) {
      show('distribution');
      const ranges = drawn.map(({ run }) => bulk(buckets(run))).filter((range) => range !== null);
      const lo = ranges.length === 0 ? 1 : Math.min(...ranges.map((range) => range.lo));
      const hi = ranges.length === 0 ? 10 : Math.max(...ranges.map((range) => range.hi), lo * 10);
      byId('distribution-panels').append(...drawn.map(({ run }) => html('figure', { class: 'panel' }, [
        html('figcaption', {}, [
          tname(run),
          html('span', { class: 'figs' }, `p50 ${latency(run.latencyMs.p50)} · p99 ${latency(run.latencyMs.p99)} · max ${latency(run.latencyMs.max)} ms`),
        ]),
        histogram(run, lo, hi),
      ])));
    }

    show('cost');
    figure('bytes-chart', barChart(runs.map(({ run }) => bar(run, run.bytesPerEvent, `${number(run.bytesPerEvent)} B`)), 'bytes per event'));
    figure('cpu-chart', barChart(runs.map(({ run }) => {
      const us = finite(run.serverCpuSecondsPer1000) ? run.serverCpuSecondsPer1000 * 1000 : null;
      return bar(run, us, us === null ? MISSING : `${number(us)} µs`);
    }), 'server CPU microseconds per delivery'));

    const polling = runs.filter(({ run }) => run.transport.includes('poll'));
    if (polling.length > 0) {
      show('polling');
      figure('requests-chart', barChart(polling.map(({ run }) => {
        const perDelivery = run.delivered > 0 ? run.requests / run.delivered : null;
        return bar(run, perDelivery, number(perDelivery));
      }), 'requests per delivered event'));
      figure('empty-chart', barChart(polling.map(({ run }) => {
        const percent = run.requests > 0 ? 100 * run.emptyResponses / run.requests : null;
        return bar(run, percent, percent === null ? MISSING : `${fixed(percent, 1)} %`);
      }), 'empty responses, percent of requests'));
    }

    show('numbers');
    byId('run-rows').append(...runs.map(({ run, index }) => html('tr', { class: run.baseline ? 'baseline' : null }, [
      html('td', {}, tname(run)),
      ...figures.runRows[index].map((cell) => html('td', { class: cell.bad ? 'bad' : null }, cell.text)),
    ])));
  }

  function idleSection() {
    if (idleRuns.length === 0) return;
    show('idle');
    const multiplexed = idleRuns.find(({ run }) => finite(run.streamsPerConnection));
    if (multiplexed) {
      const { run } = multiplexed;
      byId('streams-note').textContent =
        `${run.transport}'s connections are HTTP/2 streams, ${count(run.streamsPerConnection)} on each TCP connection: its figures are per stream.`;
      show('streams-note');
    }
    const kb = (run) => run.memoryPerConnectionBytes / 1024;
    figure('memory-chart', barChart(
      idleRuns.map(({ run }) => bar(run, kb(run), `${number(kb(run))} KB`)),
      'memory per idle connection in KB', figures.idleKbPerConnection, `target ${plain(figures.idleKbPerConnection)} KB`));
    figure('heartbeat-chart', barChart(
      idleRuns.map(({ run }) => bar(run, run.heartbeatBytesPerConnectionPerMinute, `${number(run.heartbeatBytesPerConnectionPerMinute)} B`)),
      'heartbeat bytes per connection per minute'));
    byId('idle-rows').append(...idleRuns.map(({ run, index }) => html('tr', { class: run.baseline ? 'baseline' : null }, [
      html('td', {}, tname(run)),
      ...figures.idleRows[index].map((text) => html('td', {}, text)),
    ])));
  }

  /** The TLS and HTTP/2 rows against cleartext HTTP/1.1; absent from runs made before they existed. */
  function cleartextSection() {
    const table = figures.cleartext;
    if (!table || table.rows.length === 0) return;
    show('cleartext');
    modeNotes('cleartext');
    byId('wire-note').textContent = idleMode ? '' : figures.wireNote;
    byId('wire-note').hidden = idleMode;
    // The protocol and the row compared with are words, left-aligned; the figures and ratios after them are not.
    const align = (column) => (column === 1 || column === 2 ? 'text' : null);
    byId('cleartext-header').append(...table.header.map((title, column) => html('th', { class: align(column) }, title)));
    const kinds = Object.fromEntries(results[idleMode ? 'idleRuns' : 'runs'].map((run) => [run.transport, run]));
    byId('cleartext-rows').append(...table.rows.map(([transport, ...cells]) => html('tr', {}, [
      html('td', {}, kinds[transport] ? tname(kinds[transport]) : transport),
      ...cells.map((text, column) => html('td', { class: align(column + 1) }, text)),
    ])));
  }

  header();
  targets();
  loadSections();
  idleSection();
  cleartextSection();
})();