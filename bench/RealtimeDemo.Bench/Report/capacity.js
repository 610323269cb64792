// Draws report.html's capacity section, inlined after report.js only into a capacity run's report (the other modes'
// reports do not carry it). It reads results.capacity (the run's results.json) and the "capacity-figures" block (the
// table rows and ratios as the bench writes them), puts the section after the targets, and says the capacity run's
// settings in the header's facts in place of a load run's.
(() => {
  'use strict';

  const { finite, count, plain, number, latency, html, table, modeHeader, kind, barChart } = Charts;
  const SVG = 'http://www.w3.org/2000/svg';

  const results = JSON.parse(document.getElementById('results').textContent);
  const figures = JSON.parse(document.getElementById('capacity-figures').textContent);
  const byId = (id) => document.getElementById(id);

  const rank = (run) => !run.baseline ? 0 : run.transport.startsWith('raw-') ? 1 : 2;
  const runs = results.capacity.map((run, index) => ({ run, index })).sort((a, b) => rank(a.run) - rank(b.run) || a.index - b.index);

  const n = (value) => String(Math.round(value * 100) / 100);
  function svg(tag, attributes, children) {
    const element = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value !== null && value !== undefined) element.setAttribute(name, typeof value === 'number' ? n(value) : value);
    }
    for (const child of [].concat(children ?? [])) element.append(child);
    return element;
  }

  const tname = (run) => html('span', { class: `tname ${kind(run)}` }, [html('i', { class: `sw ${kind(run)}` }), run.transport]);

  /** The header's facts for a capacity run: its steps' settings, not a load run's. */
  function facts() {
    const s = results.settings;
    const steps = results.capacity.reduce((sum, run) => sum + run.steps.length, 0);
    const ours = results.capacity.filter((run) => !run.baseline).length;
    modeHeader([
      ['clients / transport', count(s.clients)], ['first step', `${plain(s.rate)} events/s`],
      ['each step', `× ${plain(figures.stepFactor)}`], ['seconds / step', count(s.seconds)],
      ['warm-up / step', `${count(s.warmupSeconds)} s`], ['p99 limit', `${plain(figures.limitMs)} ms`],
      ['transports', `${ours} + ${results.capacity.length - ours} baselines`], ['steps measured', count(steps)],
    ], figures.targetsNote);
  }

  /** A log scale over [lo, hi] (whole decades around them) onto [a, b], as a share of it, with 1-2-5 ticks. */
  function logScale(lo, hi, a, b) {
    const from = Math.pow(10, Math.floor(Math.log10(lo) + 1e-9));
    let to = Math.pow(10, Math.ceil(Math.log10(hi) - 1e-9));
    if (to <= from) to = from * 10;
    const at = (value) => a + (b - a) * Math.log(Math.min(Math.max(value, from), to) / from) / Math.log(to / from);
    const ticks = [];
    for (let decade = from; decade <= to * (1 + 1e-9); decade *= 10) {
      for (const m of [1, 2, 5]) {
        // 2 and 5 labelled only over two decades or fewer, where there is room.
        if (decade * m <= to * (1 + 1e-9)) ticks.push({ value: decade * m, major: m === 1, labelled: m === 1 || to / from <= 100 });
      }
    }
    return { at, ticks };
  }

  /** One transport's steps: p99 against the publish rate, both log scales shared by every panel; the limit dashed. */
  function stepsChart(run, x, y) {
    const width = 360, height = 180, x0 = 46, x1 = 344, y0 = 22, y1 = 142;
    const k = kind(run);
    const chart = svg('svg', {
      class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `p99 latency per publish rate, ${run.transport}`,
    });
    const px = (rate) => x.at(rate) * (x1 - x0) + x0;
    const py = (ms) => y1 - y.at(ms) * (y1 - y0);
    for (const tick of x.ticks) {
      chart.append(svg('line', { class: tick.major ? 'grid major' : 'grid', x1: px(tick.value), x2: px(tick.value), y1: y0, y2: y1 }));
      if (!tick.labelled) continue;
      chart.append(svg('text', { class: 'tick', x: px(tick.value), y: y1 + 14, 'text-anchor': 'middle' }, plain(tick.value)));
    }
    chart.append(svg('text', { class: 'tick', x: x1, y: y1 + 30, 'text-anchor': 'end' }, 'events/s published'));
    for (const tick of y.ticks.filter((t) => t.major)) {
      chart.append(
        svg('line', { class: 'grid', x1: x0, x2: x1, y1: py(tick.value), y2: py(tick.value) }),
        svg('text', { class: 'tick', x: x0 - 5, y: py(tick.value) + 4, 'text-anchor': 'end' }, plain(tick.value)));
    }
    chart.append(svg('text', { class: 'tick', x: 4, y: 11 }, 'p99 ms'));

    chart.append(
      svg('line', { class: 'limit', x1: x0, x2: x1, y1: py(run.p99LimitMs), y2: py(run.p99LimitMs) }),
      svg('text', { class: 'limit-label', x: x1 - 2, y: py(run.p99LimitMs) - 4, 'text-anchor': 'end' }, `limit ${plain(run.p99LimitMs)} ms`));

    const steps = [...run.steps].sort((a, b) => a.rate - b.rate);
    if (steps.length > 0) {
      const d = steps.map((step, i) => `${i === 0 ? 'M' : 'L'}${n(px(step.rate))},${n(py(step.p99Ms))}`).join('');
      chart.append(svg('path', { class: `step ${k}`, d }));
    }
    // Filled: the step held; open: it did not.
    for (const step of steps) {
      chart.append(svg('circle', { class: step.held ? `bar ${k}` : `step ${k}`, cx: px(step.rate), cy: py(step.p99Ms), r: 3.5 },
        svg('title', {}, `${plain(step.rate)} events/s: p99 ${latency(step.p99Ms)} ms, ${count(step.lost)} lost${step.held ? ', held' : ''}`),
      ));
    }
    if (finite(run.rate)) {
      chart.append(
        svg('line', { class: 'mark', x1: px(run.rate), x2: px(run.rate), y1: y0, y2: y1 }),
        // Against the right edge, written to the left of its line.
        svg('text', { class: 'tick mark-label', ...(px(run.rate) > x1 - 30
          ? { x: px(run.rate) - 3, 'text-anchor': 'end' } : { x: px(run.rate) + 3 }), y: y0 + 10 }, 'held'));
    }
    return chart;
  }

  function section() {
    const bar = (run, value, text) => ({ label: run.transport, kind: kind(run), value, text });
    const all = results.capacity.flatMap((run) => run.steps);
    const rates = all.map((step) => step.rate).filter((rate) => rate > 0);
    const latencies = all.map((step) => step.p99Ms).concat(results.capacity.map((run) => run.p99LimitMs)).filter((ms) => ms > 0);
    // Room above the limit, so a step just past it shows as past it.
    const x = rates.length === 0 ? logScale(1, 10, 0, 1) : logScale(Math.min(...rates), Math.max(...rates), 0, 1);
    const y = logScale(Math.min(...latencies), Math.max(...latencies) * 1.5, 0, 1);

    // Words are left-aligned, figures right-aligned (as the other tables).
    const align = (text) => (/^[\d–-]/.test(text) ? null : 'text');
    const byName = Object.fromEntries(results.capacity.map((run) => [run.transport, run]));

    const element = html('section', { id: 'capacity' }, [
      html('h2', {}, 'Capacity'),
      html('p', { class: 'note' }, figures.note),
      html('div', { class: 'pair' }, [
        html('figure', {}, [html('figcaption', {}, 'Deliveries per second held'), barChart(
          runs.map(({ run }) => bar(run, run.deliveriesPerSecond, number(run.deliveriesPerSecond))),
          'deliveries per second at the highest rate held')]),
        html('figure', {}, [html('figcaption', {}, 'Deliveries per server CPU-second at that rate'), barChart(
          runs.map(({ run }) => bar(run, run.deliveriesPerCpuSecond, number(run.deliveriesPerCpuSecond))),
          'deliveries per server CPU-second at the highest rate held')]),
      ]),
      html('p', { class: 'note' }, 'p99 latency at each step\'s publish rate, log scales shared by every panel: '
        + 'filled dots held, open dots did not; the dashed line is the limit.'),
      html('div', { class: 'multiples' }, runs.map(({ run }) => html('figure', { class: 'panel' }, [
        html('figcaption', {}, [
          tname(run),
          html('span', { class: 'figs' }, finite(run.rate)
            ? `held ${plain(run.rate)} events/s · ${number(run.deliveriesPerSecond)} deliveries/s · p99 ${latency(run.p99Ms)} ms`
            : 'no rate held'),
        ]),
        stepsChart(run, x, y),
      ]))),
      table(figures.header, [figures.header.indexOf('stopped by')], runs.map(({ run, index }) => html('tr', { class: run.baseline ? 'baseline' : null }, [
        html('td', {}, tname(run)),
        ...figures.rows[index].map((text) => html('td', { class: align(text) }, text)),
      ]))),
    ]);
    if (figures.ratios.length > 0) {
      element.append(
        html('p', { class: 'note' }, 'Ours ÷ the baseline\'s figure, each at the rate it held; higher is better.'),
        table(['transport', 'figure', 'compared with', 'ratio'], [1, 2], figures.ratios.map(([transport, ...cells]) => html('tr', {}, [
          html('td', {}, byName[transport] ? tname(byName[transport]) : transport),
          ...cells.map((text, column) => html('td', { class: column < 2 ? 'text' : null }, text)),
        ]))));
    }
    byId('targets').after(element);
  }

  facts();
  // A run whose every transport failed to start has nothing to draw.
  if (runs.length > 0) section();
})();
