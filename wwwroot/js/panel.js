// One technique's view: its state, the events it received, its counters and latency.
// It is the transport's sink; event text only ever enters the page as text (textContent), never as markup.
import { LatencyStats, drawLatencyChart, formatBytes, formatMs } from './metrics.js';

const keptEvents = 200;

const epochOf = (cursor) => cursor.slice(0, cursor.lastIndexOf('-'));
const seqOf = (cursor) => Number(cursor.slice(cursor.lastIndexOf('-') + 1));

// The text shown for an event: a chat message's text, a price tick in one line, anything else as JSON.
function describe(evt) {
  const data = evt.data ?? {};
  // "by" is set by the host from the publisher's token: no body can set it, so it can be shown as who said it.
  if (typeof data.text === 'string') return evt.by ? `${evt.by}: ${data.text}` : data.text;
  if (evt.type === 'tick' && data.symbol) return `${data.symbol} ${data.price} (${data.change >= 0 ? '+' : ''}${data.change})`;
  return JSON.stringify(data);
}

const switchReasons = {
  refused: 'it failed before it ever worked on this path',
  silent: 'it opened but never spoke: a proxy holds it back',
  failures: 'it failed again and again',
  preferred: 'a more preferred technique works again',
  retry: 'every technique failed: starting again from the top',
};

export class Panel {
  counts = {
    received: 0, gaps: 0, duplicates: 0, requests: 0, empty: 0, bytes: 0, reconnects: 0, 'gap-signals': 0, heartbeats: 0, silences: 0,
  };
  latency = new LatencyStats();
  #epoch = null;
  #lastSeq = null;
  #activeSince = null;
  #activeMs = 0;
  #renderQueued = false;

  constructor(root, spec, options, clock, onRender, announce, onState) {
    this.root = root;
    this.onRender = onRender;
    this.onState = onState;
    this.announce = announce;
    this.name = spec.name;
    this.title = spec.title;
    this.clock = clock;
    this.transport = spec.create(this, options);
    root.dataset.transport = spec.name;
    const titleId = `${spec.name}-title`;
    root.setAttribute('aria-labelledby', titleId);
    const title = root.querySelector('.panel-title');
    title.id = titleId;
    title.textContent = spec.title;
    root.querySelector('[data-field="caption"]').textContent = spec.caption;
    root.querySelector('.automatic').hidden = !spec.automatic;
    this.events = root.querySelector('[data-field="events"]');
    this.events.setAttribute('aria-label', `${spec.title}: events received, newest first`);
    this.toggleButton = root.querySelector('[data-action="toggle"]');
    // Four panels have buttons of the same name: the panel's title tells them apart.
    for (const button of root.querySelectorAll('.panel-actions button')) button.setAttribute('aria-describedby', titleId);
    this.toggleButton.addEventListener('click', () => (this.transport.running ? this.disconnect() : this.connect()));
    root.querySelector('[data-action="drop"]').addEventListener('click', () => this.transport.drop());
  }

  connect(cursor) {
    if (cursor && this.#lastSeq === null) {
      this.#epoch = epochOf(cursor);
      this.#lastSeq = seqOf(cursor);
    }
    this.#activeSince = performance.now();
    this.transport.start(cursor);
    this.toggleButton.textContent = 'Disconnect';
  }

  disconnect() {
    this.transport.stop();
    this.#activeMs += performance.now() - this.#activeSince;
    this.#activeSince = null;
    this.toggleButton.textContent = 'Connect';
  }

  /** How long this panel's transport has been running, in hours, for the cost extrapolations. */
  get activeHours() {
    return (this.#activeMs + (this.#activeSince === null ? 0 : performance.now() - this.#activeSince)) / 3_600_000;
  }

  // The sink the transport reports to.
  state(name) {
    if (this.root.dataset.state === name) return;
    this.root.dataset.state = name;
    this.root.querySelector('[data-field="state"]').textContent = name;
    this.onState();
  }

  /** The HTTP version this panel's transport uses, and whether it was measured or inferred (see protocol.js). */
  showProtocol({ protocol, source, detail }) {
    const field = this.root.querySelector('[data-field="protocol"]');
    field.dataset.protocol = protocol;
    field.dataset.source = source;
    field.querySelector('.version').textContent = protocol;
    field.querySelector('.detail').textContent = `(${detail})`;
  }

  request() { this.counts.requests++; this.#queueRender(); }
  heartbeat() { this.counts.heartbeats++; this.#queueRender(); }
  received(bytes) { this.counts.bytes += bytes; this.#queueRender(); }
  empty() { this.counts.empty++; this.#queueRender(); }
  reconnect() { this.counts.reconnects++; this.#queueRender(); }

  event(evt) {
    const epoch = epochOf(evt.id);
    if (epoch !== this.#epoch) {
      // A new stream (the server restarted): its seq starts again, so nothing before it is a duplicate.
      if (this.#epoch !== null) this.#note('signal', `new stream ${epoch}: the server restarted`);
      this.#epoch = epoch;
      this.#lastSeq = 0;
    }

    const item = document.createElement('li');
    item.dataset.seq = evt.seq;
    item.dataset.type = evt.type;
    if (evt.seq <= this.#lastSeq) {
      this.counts.duplicates++;
      item.classList.add('duplicate');
    } else {
      if (this.#lastSeq !== null && evt.seq > this.#lastSeq + 1) this.counts.gaps += evt.seq - this.#lastSeq - 1;
      this.#lastSeq = evt.seq;
    }

    this.counts.received++;
    this.latency.add(Date.now() + this.clock.offset - Date.parse(evt.time));
    for (const [field, text] of [['seq', `#${evt.seq}`], ['type', evt.type], ['text', describe(evt)]]) {
      const span = document.createElement('span');
      span.className = field;
      span.textContent = text;
      item.append(span, ' ');
    }
    this.#prepend(item);
    if (evt.type === 'chat') this.announce(`chat: ${describe(evt)}`);
    this.#queueRender();
  }

  gap(detail) {
    this.counts['gap-signals']++;
    const why = detail.reason === 'epoch-changed' ? 'the server restarted (new stream)' : 'the cursor was too old or foreign';
    this.#note('signal', `gap signal: events may be missing, ${why}`);
    this.announce(`${this.title}: gap signal, ${why}`);
    this.#queueRender();
  }

  error(text) { this.#note('error', text); }

  // A host that requires tokens: the one this panel holds, and when the host ended its connection at expiry.
  token(credential) {
    this.credential = credential;
    this.root.dataset.tokens = Number(this.root.dataset.tokens ?? 0) + 1;
    this.showToken();
  }

  expired() {
    this.root.dataset.expiries = Number(this.root.dataset.expiries ?? 0) + 1;
    this.#note('signal', 'token expired: the host ended the connection; signed in again, resuming from the cursor');
  }

  /** The token's tail and its time left, once a second. */
  showToken() {
    if (!this.credential) return;
    const field = this.root.querySelector('[data-field="token"]');
    const left = Math.max(0, Math.round((this.credential.expiresAt - Date.now()) / 1000));
    field.hidden = false;
    field.querySelector('.value').textContent = `…${this.credential.token.slice(-8)}`;
    field.querySelector('.left').textContent = left > 0 ? `${left} s left` : 'expired';
  }

  // The path went silent: no word from the server, not even a heartbeat, for longer than it may be quiet.
  silence(ms) {
    this.counts.silences++;
    this.#note('signal', `no word from the server for ${(ms / 1000).toFixed(1)} s: dropped the connection, resuming`);
    this.#queueRender();
  }

  // The automatic panel: the technique in use, and each change with its reason.
  current(name) {
    this.root.dataset.current = name;
    this.root.querySelector('[data-field="current"]').textContent = name;
    this.onState();
  }

  switched({ from, to, reason }) {
    const item = document.createElement('li');
    Object.assign(item.dataset, { from: from ?? '', to, reason });
    const time = new Date().toLocaleTimeString();
    item.textContent = `${time}: ${from ?? 'none'} → ${to} (${switchReasons[reason] ?? reason})`;
    const list = this.root.querySelector('[data-field="switches"]');
    list.prepend(item);
    while (list.childElementCount > 20) list.lastElementChild.remove();
    this.#note('signal', `now on ${to}: ${switchReasons[reason] ?? reason}`);
  }

  #note(kind, text) {
    const item = document.createElement('li');
    item.className = kind;
    item.textContent = text;
    this.#prepend(item);
  }

  #prepend(item) {
    this.events.prepend(item);
    while (this.events.childElementCount > keptEvents) this.events.lastElementChild.remove();
  }

  #queueRender() {
    if (this.#renderQueued) return;
    this.#renderQueued = true;
    requestAnimationFrame(() => {
      this.#renderQueued = false;
      for (const [name, value] of Object.entries(this.counts)) {
        this.root.querySelector(`[data-counter="${name}"]`).textContent = name === 'bytes' ? formatBytes(value) : value;
      }
      this.root.querySelector('[data-latency="last"]').textContent = formatMs(this.latency.last);
      this.root.querySelector('[data-latency="median"]').textContent = formatMs(this.latency.median);
      this.root.querySelector('[data-latency="p95"]').textContent = formatMs(this.latency.p95);
      drawLatencyChart(this.root.querySelector('[data-field="chart"]'), this.latency.recent(120));
      this.onRender();
    });
  }
}
