// Latency statistics and the browser/server clock offset they are corrected by.

// Server clock minus browser clock, from the fastest of a few round trips to /api/stats (NTP's idea, one hop):
// the server read its clock somewhere inside the round trip, most likely near its middle.
export async function estimateClockOffset(samples = 5) {
  let best = null;
  for (let i = 0; i < samples; i++) {
    const sent = Date.now();
    const response = await fetch('/api/stats', { cache: 'no-store' });
    const received = Date.now();
    const { time, epoch } = await response.json();
    const roundTrip = received - sent;
    if (!best || roundTrip < best.roundTrip) {
      best = { offset: Date.parse(time) - (sent + received) / 2, roundTrip, epoch };
    }
  }
  return best;
}

// Every latency since the page opened, in 1 ms buckets (constant memory, quantiles in one pass),
// plus the most recent ones for the chart.
export class LatencyStats {
  static #bucketCount = 120_000; // up to 2 minutes; slower deliveries share the last bucket
  #buckets = new Uint32Array(LatencyStats.#bucketCount);
  #recent = [];
  #count = 0;

  add(milliseconds) {
    const value = Math.max(0, milliseconds);
    this.#buckets[Math.min(LatencyStats.#bucketCount - 1, Math.floor(value))]++;
    this.#count++;
    this.#recent.push(value);
    if (this.#recent.length > 240) this.#recent.shift();
  }

  get count() { return this.#count; }
  get last() { return this.#recent.at(-1); }
  get median() { return this.#quantile(0.5); }
  get p95() { return this.#quantile(0.95); }
  recent(count) { return this.#recent.slice(-count); }

  // Nearest rank: the smallest latency with at least q of all samples at or below it (bucket's upper bound).
  #quantile(q) {
    if (this.#count === 0) return undefined;
    const rank = Math.max(1, Math.ceil(q * this.#count));
    let seen = 0;
    for (let i = 0; i < this.#buckets.length; i++) {
      seen += this.#buckets[i];
      if (seen >= rank) return i + 1;
    }
    return this.#buckets.length;
  }
}

// A small line chart of the latest latencies, scaled to their maximum, drawn on a canvas.
export function drawLatencyChart(canvas, values) {
  // Draw at the device's pixel density, so the line stays sharp on high-DPI screens.
  const ratio = window.devicePixelRatio || 1;
  const cssWidth = canvas.clientWidth || 320;
  const cssHeight = canvas.clientHeight || 56;
  if (canvas.width !== Math.round(cssWidth * ratio)) {
    canvas.width = Math.round(cssWidth * ratio);
    canvas.height = Math.round(cssHeight * ratio);
  }
  const context = canvas.getContext('2d');
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  const [width, height] = [cssWidth, cssHeight];
  context.clearRect(0, 0, width, height);
  if (values.length < 2) return;
  const max = Math.max(1, ...values);
  context.strokeStyle = getComputedStyle(canvas).color;
  context.lineWidth = 1.5;
  context.beginPath();
  values.forEach((value, i) => {
    const x = (i / (values.length - 1)) * (width - 2) + 1;
    const y = height - 2 - (Math.max(0, value) / max) * (height - 4);
    if (i === 0) context.moveTo(x, y); else context.lineTo(x, y);
  });
  context.stroke();
  context.fillStyle = context.strokeStyle;
  context.font = '10px system-ui, sans-serif';
  context.fillText(`max ${Math.round(max)} ms`, 4, 11);
}

export const formatMs = (value) => value === undefined ? '–' : `${Math.round(value)} ms`;

export function formatBytes(value) {
  if (value < 1024) return `${Math.round(value)} B`;
  if (value < 1024 * 1024) return `${(value / 1024).toFixed(1)} KiB`;
  return `${(value / 1024 / 1024).toFixed(1)} MiB`;
}
