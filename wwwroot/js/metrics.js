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

// Keeps every latency since the page opened (up to a bound), answering last, median and p95.
export class LatencyStats {
  static #limit = 50_000;
  #samples = [];
  #sorted = null;

  add(milliseconds) {
    this.#samples.push(milliseconds);
    if (this.#samples.length > LatencyStats.#limit) this.#samples.shift();
    this.#sorted = null;
  }

  get count() { return this.#samples.length; }
  get last() { return this.#samples.at(-1); }
  get median() { return this.#quantile(0.5); }
  get p95() { return this.#quantile(0.95); }
  recent(count) { return this.#samples.slice(-count); }

  #quantile(q) {
    if (this.#samples.length === 0) return undefined;
    this.#sorted ??= [...this.#samples].sort((a, b) => a - b);
    return this.#sorted[Math.min(this.#sorted.length - 1, Math.floor(q * this.#sorted.length))];
  }
}

// A small line chart of the latest latencies, scaled to their maximum, drawn on a canvas.
export function drawLatencyChart(canvas, values) {
  const context = canvas.getContext('2d');
  const { width, height } = canvas;
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
