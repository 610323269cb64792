// The drills' section of report.html, present only in a report with drills: a timeline per drill (connected clients,
// deliveries and TCP connects per second, per technique, with what the drill did marked), and the table. It runs once
// the page is parsed, after report.js, and turns the header's facts and notes to the drills'.
document.addEventListener('DOMContentLoaded', () => {
  'use strict';

  const { html, count, plain, modeHeader } = Charts;
  const SVG = 'http://www.w3.org/2000/svg';
  const results = JSON.parse(document.getElementById('results').textContent);
  const figures = JSON.parse(document.getElementById('figures').textContent);
  const drills = results.drills;
  const byId = (id) => document.getElementById(id);
  const name = (run) => run.jitter ? run.kind : `${run.kind}, no jitter`;
  const round = (value) => String(Math.round(value * 100) / 100);

  function svg(tag, attributes, children) {
    const element = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, typeof value === 'number' ? round(value) : value);
    for (const child of [].concat(children ?? [])) element.append(child);
    return element;
  }

  /** The top of a linear axis from zero: 1, 2 or 5 times a power of ten, at or above max. */
  function top(max) {
    if (!(max > 0)) return 1;
    const magnitude = Math.pow(10, Math.floor(Math.log10(max)));
    return [1, 2, 5, 10].map((m) => m * magnitude).find((value) => value >= max);
  }

  /** One panel: a line per technique over the drill's seconds, the drill's steps as vertical marks. */
  function timeline(runs, field, description) {
    const width = 360, height = 170, x0 = 44, x1 = 350, y0 = 12, y1 = 140;
    const seconds = Math.max(1, ...runs.map((run) => run.timeline[field].length - 1));
    const max = top(Math.max(0, ...runs.flatMap((run) => run.timeline[field])));
    const x = (second) => x0 + (x1 - x0) * second / seconds;
    const y = (value) => y1 - (y1 - y0) * value / max;
    const chart = svg('svg', { class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': description });
    for (const value of [0, max / 2, max]) {
      chart.append(
        svg('line', { class: value === 0 ? 'grid axis' : 'grid', x1: x0, x2: x1, y1: y(value), y2: y(value) }),
        svg('text', { class: 'tick', x: x0 - 5, y: y(value) + 4, 'text-anchor': 'end' }, count(value)));
    }
    const step = seconds > 40 ? 10 : 5;
    for (let second = 0; second <= seconds; second += step) {
      chart.append(svg('text', { class: 'tick', x: x(second), y: y1 + 14, 'text-anchor': 'middle' }, String(second)));
    }
    chart.append(svg('text', { class: 'tick', x: x1, y: y1 + 28, 'text-anchor': 'end' }, 's'));
    runs[0].actions.forEach((action, i) => chart.append(
      svg('line', { class: action.cut ? 'action cut' : 'action', x1: x(action.atSeconds), x2: x(action.atSeconds), y1: y0 - 4, y2: y1 }),
      svg('text', { class: action.cut ? 'action-label cut' : 'action-label', x: x(action.atSeconds) + 2, y: y0 + 4 }, String(i + 1))));
    for (const run of runs) {
      const points = run.timeline[field].map((value, second) => `${round(x(second))},${round(y(value))}`).join(' ');
      chart.append(svg('polyline', { class: `series t-${run.transport}`, points }));
    }
    return chart;
  }

  function header() {
    const s = results.settings;
    const kinds = [...new Set(drills.map(name))];
    modeHeader([
      ['hosts behind nginx', count(s.hosts)], ['clients / technique', count(s.clients)], ['events / s', plain(s.rate)],
      ['seconds before the cut and after each step', count(s.seconds)], ['drills', kinds.join(' · ')],
      ['deliveries', count(drills.reduce((sum, run) => sum + run.delivered, 0))],
    ], figures.drills.targetsNote);
  }

  function section() {
    const transports = [...new Set(drills.map((run) => run.transport))];
    const legend = transports.map((transport) => html('span', {}, [html('i', { class: `sw t-${transport}` }), transport]));
    document.querySelector('header .legend').replaceChildren(...legend.map((item) => item.cloneNode(true)));
    byId('drills-legend').append(...legend);
    byId('drills-note').textContent = figures.drills.note;

    const groups = new Map();
    for (const run of drills) groups.set(name(run), [...(groups.get(name(run)) || []), run]);
    for (const [drill, runs] of groups) {
      byId('drill-timelines').append(html('div', { class: 'drill' }, [
        html('h3', {}, drill),
        html('ol', {}, runs[0].actions.map((action) => html('li', {}, `${action.atSeconds.toFixed(1)} s: ${action.what}`))),
        html('div', { class: 'trio' }, [
          ['connected', 'clients connected'], ['deliveries', 'deliveries per second'], ['connects', 'TCP connects to nginx per second'],
        ].map(([field, caption]) => html('figure', {}, [
          html('figcaption', {}, caption),
          timeline(runs, field, `${drill}: ${caption} per technique, by second`),
        ]))),
      ]));
    }

    byId('drill-header').append(...figures.drills.header.map((title) => html('th', {}, title)));
    byId('drill-rows').append(...drills.map((run, index) => html('tr', {}, [
      html('td', {}, name(run)),
      html('td', {}, [html('i', { class: `sw t-${run.transport}` }), run.transport]),
      ...figures.drills.rows[index].map((cell) => html('td', { class: cell.bad ? 'bad' : null }, cell.text)),
    ])));
  }

  header();
  section();
});
