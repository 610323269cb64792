// Draws report.html's section beyond one process, inlined after report.js only into such a run's report (the other
// modes' reports do not carry it). It reads results.fleet (the run's results.json) and the "fleet-figures" block (the
// table rows as the bench writes them), puts the section after the targets, and says the fleet's settings in the
// header's facts in place of a load run's.
(() => {
  'use strict';

  const { count, plain, number, html, table, modeHeader, barChart } = Charts;

  const results = JSON.parse(document.getElementById('results').textContent);
  const figures = JSON.parse(document.getElementById('fleet-figures').textContent);
  const byId = (id) => document.getElementById(id);
  const runs = results.fleet;

  // Every run is ours: there are no baselines beyond one process.
  const tname = (transport) => html('span', { class: 'tname ours' }, [html('i', { class: 'sw ours' }), transport]);

  /** The header's facts for a run beyond one process: its spread, not a load run's settings. */
  function facts() {
    const s = results.settings;
    const clientProcesses = runs.length > 0 ? count(runs[0].clientProcesses) : '–';
    modeHeader([
      ['connections / transport', count(s.clients)], ['hosts on one Redis log', count(s.hosts ?? 0)],
      ['client processes', clientProcesses], ['events / s asked', plain(s.rate)], ['seconds published', count(s.seconds)],
      ['transports', count(runs.length)],
    ], figures.targetsNote);
  }

  /** A table of the bench's cells, bad ones marked; the columns named in textColumns are words, left-aligned. */
  const cellTable = (header, textColumns, rows) => table(header, textColumns, rows.map(([transport, ...cells]) => html('tr', {}, [
    html('td', {}, tname(transport)),
    // Only figures are ever bad, so a cell is one or the other.
    ...cells.map((cell, column) => html('td', { class: cell.bad ? 'bad' : textColumns.includes(column + 1) ? 'text' : null }, cell.text)),
  ])));

  /** One transport's memory per connection: a bar per host, the single host's beside them, the target's upper bound. */
  function memoryChart(run) {
    // results.json carries each host's memory per connection as the bench computed it for the tables.
    const kb = (host) => host.memoryPerConnectionBytes / 1024;
    const bar = (label, kind, host) => ({ label, kind, value: kb(host), text: `${number(kb(host))} KB` });
    const bars = run.perHost.map((host, i) => bar(`host ${i + 1}`, 'ours', host))
      .concat(bar('single host', 'raw', run.singleHost));
    const limit = kb(run.singleHost) * (1 + figures.memoryTolerance);
    return html('figure', {}, [
      html('figcaption', {}, [tname(run.transport), ': KB per connection']),
      // The limit's label short: the line sits near the scale's end, where a long one would be cut off.
      barChart(bars, `memory per connection in KB on each host of ${run.transport}, and on a single host`,
        limit, `+${plain(figures.memoryTolerance * 100)} %`),
    ]);
  }

  function section() {
    byId('targets').after(html('section', { id: 'fleet' }, [
      html('h2', {}, 'Beyond one process'),
      html('p', { class: 'note' }, figures.note),
      cellTable(figures.header, [], runs.map((run, index) => [run.transport, ...figures.rows[index]])),
      html('p', { class: 'note' }, 'Memory per connection on each host, the single host in grey; the dashed line is the '
        + `single host's plus ${plain(figures.memoryTolerance * 100)} %, the most a host may reach and meet the target.`),
      html('div', { class: 'pair' }, runs.map(memoryChart)),
      html('p', { class: 'note' }, figures.hostNote),
      // The transport column is drawn as the other tables draw it; the host column holds "single host" too.
      cellTable(figures.hostHeader, [1], figures.hostRows.map(([transport, ...cells]) => [transport.text, ...cells])),
    ]));
  }

  facts();
  // A run whose every transport failed to start has nothing to draw.
  if (runs.length > 0) section();
})();
