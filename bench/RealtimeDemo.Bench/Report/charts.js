// The report's charts, drawn as inline SVG, and the figure formatting they share with report.js's sections.
// Everything report.js uses is on the one object `Charts`; nothing here reads the page's JSON or fills a section.
const Charts = (() => {
  'use strict';

  const SVG = 'http://www.w3.org/2000/svg';
  const MISSING = '–';

  // ---- figures as written --------------------------------------------------------------------------------------

  const finite = (value) => typeof value === 'number' && Number.isFinite(value);
  // Ties to even, as the bench's own formatting (.NET's) rounds them, so the charts and the tables agree.
  const fixed = (value, digits) =>
    value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits, roundingMode: 'halfEven' });
  const count = (value) => fixed(value, 0);
  const plain = (value) => value.toLocaleString('en-US', { maximumFractionDigits: 3, roundingMode: 'halfEven' });
  const tickLabel = (value) => value.toLocaleString('en-US', { maximumFractionDigits: 4, roundingMode: 'halfEven' });

  /** About three significant figures, thousands separated: 0.0123, 1.23, 12.3, 123, 1,234. */
  function number(value) {
    if (!finite(value)) return MISSING;
    const abs = Math.abs(value);
    if (abs === 0) return '0';
    if (abs >= 100) return fixed(value, 0);
    if (abs >= 10) return fixed(value, 1);
    if (abs >= 1) return fixed(value, 2);
    if (abs >= 0.1) return fixed(value, 3);
    return String(Number(value.toPrecision(3)));
  }

  /** Milliseconds with aligned decimals: 0.98, 2.40, 21.5, 502. */
  const latency = (ms) => !finite(ms) ? MISSING
    : fixed(ms, Math.abs(ms) < 10 ? 2 : Math.abs(ms) < 100 ? 1 : 0);

  const axisPercent = (share) => (share * 100).toFixed(share >= 0.1 || share === 0 ? 0 : 1).replace(/\.0$/, '') + '%';
  const n = (value) => String(Math.round(value * 100) / 100);

  // ---- elements ------------------------------------------------------------------------------------------------

  function make(namespace, tag, attributes, children) {
    const element = namespace ? document.createElementNS(namespace, tag) : document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value !== null && value !== undefined && value !== false) element.setAttribute(name, typeof value === 'number' ? n(value) : value);
    }
    for (const child of [].concat(children ?? [])) element.append(child);
    return element;
  }

  const html = (tag, attributes, children) => make(null, tag, attributes, children);
  const svg = (tag, attributes, children) => make(SVG, tag, attributes, children);

  /** A scrolling table of the given rows (tr elements); the columns named in textColumns are words, left-aligned. */
  const table = (header, textColumns, rows) => html('div', { class: 'scroll' }, html('table', {}, [
    html('thead', {}, html('tr', {}, header.map((title, column) => html('th', { class: textColumns.includes(column) ? 'text' : null }, title)))),
    html('tbody', {}, rows),
  ]));

  /**
   * A mode's own header in place of a load run's: its facts ([name, value] pairs) and the note over its targets (the
   * load run's note, with the mode's text).
   */
  function modeHeader(facts, targetsNote) {
    document.getElementById('facts').replaceChildren(...facts.map(([name, value]) => html('div', {}, [html('dt', {}, name), html('dd', {}, value)])));
    for (const note of document.querySelectorAll('#targets [data-mode]')) {
      note.hidden = note.dataset.mode !== 'load';
      if (!note.hidden) note.textContent = targetsNote;
    }
  }

  // ---- runs ----------------------------------------------------------------------------------------------------

  /** The colour a run is drawn in: ours, a raw Kestrel baseline or a SignalR one. */
  const kind = (run) => !run.baseline ? 'ours' : run.transport.toLowerCase().startsWith('signalr') ? 'signalr' : 'raw';

  // ---- scales --------------------------------------------------------------------------------------------------

  /** A max of 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 or 10 × 10^k at or above max, split into three to five steps. */
  function niceScale(max) {
    if (!(max > 0) || !Number.isFinite(max)) return { max: 1, step: 0.25 };
    const magnitude = Math.pow(10, Math.floor(Math.log10(max)));
    for (const [m, steps] of [[1, 4], [1.5, 3], [2, 4], [2.5, 5], [3, 3], [4, 4], [5, 5], [6, 3], [8, 4], [10, 5]]) {
      if (max <= m * magnitude * (1 + 1e-9)) return { max: m * magnitude, step: m * magnitude / steps };
    }
    return { max: 10 * magnitude, step: 2 * magnitude };
  }

  class LogScale {
    constructor(lo, hi, x0, x1) { Object.assign(this, { lo, hi, x0, x1 }); }

    /** Whole decades around [min, max]. */
    static around(min, max, x0, x1) {
      min = min > 0 && Number.isFinite(min) ? min : 0.1;
      max = max > min && Number.isFinite(max) ? max : min * 10;
      const lo = Math.pow(10, Math.floor(Math.log10(min) + 1e-9));
      let hi = Math.pow(10, Math.ceil(Math.log10(max) - 1e-9));
      if (hi <= lo) hi = lo * 10;
      return new LogScale(lo, hi, x0, x1);
    }

    x(value) {
      const clamped = Math.min(Math.max(value > 0 && Number.isFinite(value) ? value : this.lo, this.lo), this.hi);
      return this.x0 + (this.x1 - this.x0) * Math.log(clamped / this.lo) / Math.log(this.hi / this.lo);
    }

    /** 1, 2 and 5 per decade; the 1s major; all labelled when there are three decades or fewer. */
    ticks() {
      const ticks = [];
      const decades = Math.log10(this.hi / this.lo);
      for (let decade = Math.pow(10, Math.floor(Math.log10(this.lo) + 1e-9)); decade <= this.hi * (1 + 1e-9); decade *= 10) {
        for (const m of [1, 2, 5]) {
          const value = decade * m;
          if (value >= this.lo * (1 - 1e-9) && value <= this.hi * (1 + 1e-9)) {
            ticks.push({ value, major: m === 1, labelled: m === 1 || decades <= 3 });
          }
        }
      }
      return ticks;
    }
  }

  // ---- charts --------------------------------------------------------------------------------------------------

  /** Horizontal bars on a linear scale from zero, one per row, the value written at the end of each bar. */
  function barChart(bars, description, limit, limitLabel) {
    const width = 480, labelWidth = 150, x0 = 156, x1 = 404, top = 26, row = 26, barHeight = 15;
    const height = top + bars.length * row + 6;
    let max = Math.max(0, ...bars.map((bar) => finite(bar.value) ? bar.value : 0));
    if (finite(limit)) max = Math.max(max, limit);
    const scale = niceScale(max);
    const x = (value) => x0 + (x1 - x0) * Math.min(Math.max(value / scale.max, 0), 1);

    const chart = svg('svg', { class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': description });
    for (let tick = 0; tick <= scale.max + scale.step / 2; tick += scale.step) {
      chart.append(
        svg('line', { class: 'grid', x1: x(tick), x2: x(tick), y1: top - 6, y2: height - 4 }),
        svg('text', { class: 'tick', x: x(tick), y: top - 10, 'text-anchor': 'middle' }, tickLabel(tick)));
    }

    if (finite(limit)) {
      chart.append(
        svg('line', { class: 'limit', x1: x(limit), x2: x(limit), y1: top - 4, y2: height - 2 }),
        svg('text', { class: 'limit-label', x: x(limit) + 4, y: height - 6 }, limitLabel));
    }

    bars.forEach((bar, i) => {
      const mid = top + i * row + row / 2;
      chart.append(svg('text', { class: `label ${bar.kind}`, x: labelWidth, y: mid + 4.5, 'text-anchor': 'end' }, bar.label));
      if (finite(bar.value)) {
        const end = x(bar.value);
        chart.append(
          svg('rect', { class: `bar ${bar.kind}`, x: x0, y: mid - barHeight / 2, width: Math.max(end - x0, 1.5), height: barHeight, rx: 2 }),
          svg('text', { class: 'value', x: end + 5, y: mid + 4 }, bar.text));
      } else {
        chart.append(svg('text', { class: 'value muted', x: x0 + 4, y: mid + 4 }, `${MISSING} no figure`));
      }
    });
    return chart;
  }

  /** Grouped horizontal bars: p50, p95 and p99 per transport on a shared log scale. */
  function latencyChart(entries) {
    const width = 760, labelWidth = 150, x0 = 158, x1 = 680, top = 44, bar = 9, gap = 2, groupGap = 14, separator = 14;
    const values = entries.flatMap(({ run }) => [run.latencyMs.p50, run.latencyMs.p95, run.latencyMs.p99])
      .filter((value) => finite(value) && value > 0);
    const scale = values.length === 0 ? LogScale.around(1, 10, x0, x1) : LogScale.around(Math.min(...values), Math.max(...values), x0, x1);
    const groupHeight = 3 * bar + 2 * gap;
    const hasSeparator = entries.some(({ run }) => run.baseline) && entries.some(({ run }) => !run.baseline);
    const height = top + entries.length * (groupHeight + groupGap) + (hasSeparator ? separator : 0) + 4;

    const chart = svg('svg', {
      class: 'chart wide', viewBox: `0 0 ${width} ${height}`, role: 'img',
      'aria-label': 'latency p50, p95 and p99 per transport, milliseconds, log scale',
    });

    // The percentile key, top left above the labels.
    ['p50', 'p95', 'p99'].forEach((name, p) => chart.append(
      svg('rect', { class: `bar ours q${p}`, x: 8 + p * 48, y: 6, width: 14, height: 9, rx: 1.5 }),
      svg('text', { class: 'tick', x: 26 + p * 48, y: 14.5 }, name)));

    for (const tick of scale.ticks()) {
      const x = scale.x(tick.value);
      chart.append(svg('line', { class: tick.major ? 'grid major' : 'grid', x1: x, x2: x, y1: top - 8, y2: height - 4 }));
      if (tick.labelled) chart.append(svg('text', { class: 'tick', x, y: top - 14, 'text-anchor': 'middle' }, tickLabel(tick.value)));
    }
    chart.append(svg('text', { class: 'tick', x: x1 + 26, y: top - 14 }, 'ms'));

    let y = top;
    entries.forEach(({ run }, i) => {
      if (i > 0 && run.baseline && !entries[i - 1].run.baseline) {
        const line = y + separator / 2 - groupGap / 2;
        chart.append(svg('line', { class: 'sep', x1: 8, x2: width - 8, y1: line, y2: line }));
        y += separator;
      }

      chart.append(svg('text', { class: `label ${kind(run)}`, x: labelWidth, y: y + groupHeight / 2 + 4.5, 'text-anchor': 'end' }, run.transport));
      [run.latencyMs.p50, run.latencyMs.p95, run.latencyMs.p99].forEach((value, p) => {
        if (!finite(value)) return;
        const by = y + p * (bar + gap);
        const end = scale.x(value);
        chart.append(
          svg('rect', { class: `bar ${kind(run)} q${p}`, x: x0, y: by, width: Math.max(end - x0, 1.5), height: bar, rx: 1.5 }),
          svg('text', { class: 'value small', x: end + 4, y: by + bar - 1 }, latency(value)));
      });
      y += groupHeight + groupGap;
    });
    return chart;
  }

  /** The histogram as buckets with both edges; the first bucket's lower edge is guessed geometrically. */
  function buckets(run) {
    const sorted = (run.latencyHistogram || []).filter((bucket) => finite(bucket.upToMs)).sort((a, b) => a.upToMs - b.upToMs);
    const result = [];
    sorted.forEach((bucket, i) => {
      let hi = bucket.upToMs;
      const lo = i > 0 ? sorted[i - 1].upToMs
        : sorted.length > 1 && hi > 0 && sorted[1].upToMs > hi ? hi * hi / sorted[1].upToMs
        : hi / 2;
      if (hi >= Number.MAX_VALUE / 4) hi = lo * 2; // the overflow bucket: drawn one step wide
      if (hi > 0) result.push({ lo: Math.max(lo, hi / 1e6), hi, count: Math.max(bucket.count, 0) });
    });
    return result;
  }

  /** From the bucket past the first 0.1 % of deliveries to the one holding the 99.9th percentile. */
  function bulk(list) {
    const total = list.reduce((sum, bucket) => sum + bucket.count, 0);
    if (total === 0) return null;
    let lo = null, hi = null, cumulative = 0;
    for (const bucket of list) {
      cumulative += bucket.count;
      if (lo === null && cumulative > total * 0.001) lo = bucket.lo;
      if (hi === null && cumulative >= total * 0.999) hi = bucket.hi;
    }
    return { lo: lo ?? list[0].lo, hi: hi ?? list[list.length - 1].hi };
  }

  /** One small-multiple panel: share of deliveries per bucket against a shared log-scale time axis. */
  function histogram(run, lo, hi) {
    const width = 360, height = 150, x0 = 40, x1 = 340, y0 = 14, y1 = 118;
    const scale = new LogScale(lo, hi, x0, x1);
    const list = buckets(run);
    const total = list.reduce((sum, bucket) => sum + bucket.count, 0);
    const peak = total === 0 ? 0 : Math.max(...list.map((bucket) => bucket.count / total));
    const top = peak <= 0 ? 1 : niceScale(peak).max;
    const k = kind(run);

    const chart = svg('svg', { class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `latency distribution of ${run.transport}` });
    for (const tick of scale.ticks()) {
      const x = scale.x(tick.value);
      chart.append(svg('line', { class: tick.major ? 'grid major' : 'grid', x1: x, x2: x, y1: y0, y2: y1 }));
      if (tick.major) chart.append(svg('text', { class: 'tick', x, y: y1 + 15, 'text-anchor': 'middle' }, tickLabel(tick.value)));
    }
    chart.append(svg('text', { class: 'tick', x: x1, y: y1 + 29, 'text-anchor': 'end' }, 'ms'));

    for (let share = 0; share <= top + 1e-9; share += top / 2) {
      const y = y1 - (y1 - y0) * share / top;
      chart.append(
        svg('line', { class: share === 0 ? 'grid axis' : 'grid', x1: x0, x2: x1, y1: y, y2: y }),
        svg('text', { class: 'tick', x: x0 - 5, y: y + 4, 'text-anchor': 'end' }, axisPercent(share)));
    }

    if (total === 0) {
      chart.append(svg('text', { class: 'value muted', x: (x0 + x1) / 2, y: (y0 + y1) / 2, 'text-anchor': 'middle' }, 'no deliveries'));
    } else {
      // A filled step outline: reads as a histogram and stays legible where buckets are thin.
      let area = '', outline = '';
      for (const bucket of list) {
        const xa = scale.x(bucket.lo), xb = scale.x(bucket.hi);
        const y = y1 - (y1 - y0) * Math.min(bucket.count / total / top, 1);
        if (bucket.count > 0 && xb > xa) {
          area += `M${n(xa)},${n(y1)}V${n(y)}H${n(xb)}V${n(y1)}Z`;
          outline += `M${n(xa)},${n(y)}H${n(xb)}`;
        }
      }
      chart.append(svg('path', { class: `area ${k}`, d: area }), svg('path', { class: `step ${k}`, d: outline }));
    }

    const p50 = run.latencyMs.p50, p99 = run.latencyMs.p99;
    const crowded = Math.abs(scale.x(p99) - scale.x(p50)) < 26;
    const nearEdge = scale.x(p99) > width - 26;
    for (const [name, value] of [['p50', p50], ['p99', p99]]) {
      if (!finite(value) || value <= 0) continue;
      const x = scale.x(value);
      // p99 against the right edge is written to the left of its line; a p50 close by drops one line down.
      const left = name === 'p50' ? crowded : nearEdge;
      const lower = name === 'p50' && crowded && nearEdge;
      chart.append(
        svg('line', { class: 'mark', x1: x, x2: x, y1: y0 - 4, y2: y1 }),
        svg('text', { class: 'tick mark-label', x: left ? x - 3 : x + 3, y: y0 + (lower ? 18 : 6), 'text-anchor': left ? 'end' : null }, name));
    }
    return chart;
  }

  return {
    MISSING, finite, fixed, count, plain, number, latency, html, table, modeHeader, kind,
    barChart, latencyChart, buckets, bulk, histogram,
  };
})();
