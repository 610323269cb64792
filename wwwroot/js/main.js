// Composes the page: four panels on one start cursor, the publish box, the controls and the cost summary.
import { LongPollTransport, ShortPollTransport, SseTransport, WebSocketTransport } from './transports.js';
import { Panel } from './panel.js';
import { estimateClockOffset, formatBytes, formatMs } from './metrics.js';

const specs = [
  {
    name: 'short-poll',
    title: 'Short polling',
    caption: 'Client asks on a timer; one full request per interval, events or not; the next poll is the reconnect. Best for slow-changing data behind any proxy.',
    create: (sink) => new ShortPollTransport(sink),
  },
  {
    name: 'long-poll',
    title: 'Long polling',
    caption: 'Server answers when there is news; one request per delivery, one held while idle; reconnect is just the next poll. Best as the fallback when streams are blocked.',
    create: (sink) => new LongPollTransport(sink),
  },
  {
    name: 'sse',
    title: 'Server-Sent Events',
    caption: 'Server to client on one long response; ~100 bytes of framing per event; the browser reconnects and resumes by itself (Last-Event-ID). Best for feeds and dashboards.',
    create: (sink) => new SseTransport(sink),
  },
  {
    name: 'websocket',
    title: 'WebSocket',
    caption: 'Both ways on one socket; 2–4 bytes of framing per message; reconnect and resume are your code. Best for chat, collaboration, games.',
    create: (sink) => new WebSocketTransport(sink),
  },
];

const $ = (selector) => document.querySelector(selector);

async function main() {
  const clock = await estimateClockOffset();
  showClock(clock);

  // Every panel starts at the same cursor, so all four should show exactly the same events from here on.
  const start = (await (await fetch('/api/poll', { cache: 'no-store' })).json()).cursor;
  const template = $('#panel-template');
  const panels = [];
  const renderCostsSoon = debounce(() => renderCosts(panels), 250);
  for (const spec of specs) {
    const root = template.content.firstElementChild.cloneNode(true);
    $('.panels').append(root);
    panels.push(new Panel(root, spec, clock, renderCostsSoon));
  }
  for (const panel of panels) panel.connect(start);
  const byName = Object.fromEntries(panels.map((panel) => [panel.name, panel]));

  wirePublish(byName.websocket.transport);
  wirePollInterval(byName['short-poll'].transport);
  await wireTicker();

  setInterval(renderCostsSoon, 5000); // requests per hour drift as time passes, even with no new events
  setInterval(async () => showClock(Object.assign(clock, await estimateClockOffset())), 60_000);
  document.body.dataset.ready = 'true';
}

function debounce(action, milliseconds) {
  let timer = 0;
  return () => {
    if (!timer) timer = setTimeout(() => { timer = 0; action(); }, milliseconds);
  };
}

function showClock(clock) {
  $('#clock-offset').textContent = `${Math.round(clock.offset)} ms (round trip ${clock.roundTrip} ms)`;
  $('#stream-epoch').textContent = clock.epoch;
}

function wirePublish(webSocket) {
  const status = $('#publish-status');
  $('#publish-form').addEventListener('submit', async (submit) => {
    submit.preventDefault();
    const input = $('#publish-text');
    const data = { text: input.value };
    if ($('#publish-via').value === 'websocket') {
      status.textContent = webSocket.publish('chat', data) ? 'sent on the WebSocket' : 'the WebSocket panel is not connected';
    } else {
      const response = await fetch('/api/events', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ type: 'chat', data }),
      });
      const body = await response.json();
      status.textContent = response.ok ? `published as #${body.seq}` : `refused: ${body.detail ?? Object.values(body.errors ?? {}).flat().join('; ')}`;
    }
    input.value = '';
  });
}

function wirePollInterval(shortPoll) {
  const input = $('#poll-interval');
  const apply = () => {
    const seconds = Math.min(30, Math.max(1, Number(input.value) || 2));
    shortPoll.interval = seconds * 1000;
  };
  input.addEventListener('change', apply);
  apply();
}

async function wireTicker() {
  const input = $('#ticker-rate');
  const button = $('#ticker-button');
  const status = $('#ticker-status');
  const state = await (await fetch('/api/ticker', { cache: 'no-store' })).json();
  input.value = state.eventsPerSecond;
  input.disabled = button.disabled = !state.adjustable;
  status.textContent = state.adjustable ? '' : 'fixed by the host (Realtime:TickerAdjustable)';
  $('#ticker-form').addEventListener('submit', async (submit) => {
    submit.preventDefault();
    const response = await fetch('/api/ticker', {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ eventsPerSecond: Number(input.value) }),
    });
    const body = await response.json();
    status.textContent = response.ok ? `now ${body.eventsPerSecond} events/s` : `refused: ${body.detail ?? body.title}`;
  });
}

function renderCosts(panels) {
  const rows = panels.map((panel) => {
    const { requests, bytes, received, empty } = panel.counts;
    const hours = panel.activeHours;
    const cells = [
      panel.title,
      hours > 0 ? Math.round(requests / hours).toLocaleString() : '–',
      received > 0 ? formatBytes(bytes / received) : '–',
      requests > 0 ? `${Math.round((100 * empty) / requests)} %` : '–',
      formatMs(panel.latency.median),
    ];
    const row = document.createElement('tr');
    row.dataset.cost = panel.name;
    for (const [i, text] of cells.entries()) {
      const cell = document.createElement(i === 0 ? 'th' : 'td');
      if (i === 0) cell.scope = 'row';
      cell.textContent = text;
      row.append(cell);
    }
    return row;
  });
  $('#cost-rows').replaceChildren(...rows);
}

main();
