// Composes the page: the automatic panel and the four fixed ones on one start cursor, the publish box, the controls
// and the cost summary.
import { LongPollTechnique, RealtimeClient, ShortPollTechnique, SseTechnique, WebSocketTechnique } from './realtime-client.js';
import { Panel } from './panel.js';
import { estimateClockOffset, formatBytes, formatMs } from './metrics.js';
import { ProtocolWatch } from './protocol.js';

const specs = [
  {
    name: 'auto',
    title: 'Automatic',
    caption: 'One client for every network (realtime-client.js): WebSocket where the path allows it, else SSE, long polling, short polling; it falls back when one fails here, tries the better ones again from time to time, and carries the cursor across every switch.',
    automatic: true,
    create: (sink, options) => new RealtimeClient(sink, options),
  },
  {
    name: 'short-poll',
    title: 'Short polling',
    caption: 'Client asks on a timer; one full request per interval, events or not; the next poll is the reconnect. Best for slow-changing data behind any proxy.',
    create: (sink, options) => new ShortPollTechnique(sink, options),
  },
  {
    name: 'long-poll',
    title: 'Long polling',
    caption: 'Server answers when there is news; one request per delivery, one held while idle; reconnect is just the next poll. Best as the fallback when streams are blocked.',
    create: (sink, options) => new LongPollTechnique(sink, options),
  },
  {
    name: 'sse',
    title: 'Server-Sent Events',
    caption: 'Server to client on one long response; ~100 bytes of framing per event; the browser reconnects and resumes by itself (Last-Event-ID). Best for feeds and dashboards.',
    create: (sink, options) => new SseTechnique(sink, options),
  },
  {
    name: 'websocket',
    title: 'WebSocket',
    caption: 'Both ways on one socket; 2–4 bytes of framing per message; reconnect and resume are your code. Best for chat, collaboration, games.',
    create: (sink, options) => new WebSocketTechnique(sink, options),
  },
];

const $ = (selector) => document.querySelector(selector);

async function main() {
  // Said before any request: over HTTP/1.1 with the connections used up, the page's own requests may never be answered.
  $('#http1-warning').hidden = location.protocol !== 'http:';
  const clock = await estimateClockOffset();
  showClock(clock);

  // The host's heartbeat interval, which every panel watches the path at (a stream's welcome says it again).
  const host = await (await fetch('/api/stats', { cache: 'no-store' })).json();
  const options = { heartbeatMs: host.heartbeatMs };

  // A host that requires tokens: sign in first; each panel then takes its own tokens and renews them its way.
  if (host.readerTokenRequired) {
    options.getToken = await signIn();
    options.refreshBeforeExpiry = !$('#let-expire').checked;
  }
  const startToken = options.getToken ? (await options.getToken()).token : null;

  // Every panel starts at the same cursor, so all five should show exactly the same events from here on.
  const start = (await (await fetch('/api/poll', { cache: 'no-store', headers: bearer(startToken) })).json()).cursor;
  const template = $('#panel-template');
  const panels = [];
  const renderCostsSoon = debounce(() => renderCosts(panels), 250);
  const renderConnectionsSoon = debounce(() => renderConnections(panels, protocols), 100);
  const protocols = new ProtocolWatch(renderConnectionsSoon);
  for (const spec of specs) {
    const root = template.content.firstElementChild.cloneNode(true);
    $('.panels').append(root);
    panels.push(new Panel(root, spec, options, clock, renderCostsSoon, announce, renderConnectionsSoon));
  }
  for (const panel of panels) panel.connect(start);
  renderConnectionsSoon();
  const byName = Object.fromEntries(panels.map((panel) => [panel.name, panel]));

  wirePublish(byName.websocket.transport, options.getToken);
  wirePollInterval(byName['short-poll'].transport, byName.auto.transport);
  wireLetExpire(panels);
  setInterval(() => panels.forEach((panel) => panel.showToken()), 1000);
  await wireTicker();

  showHostOptions(host);
  setInterval(renderCostsSoon, 5000); // requests per hour drift as time passes, even with no new events
  setInterval(async () => {
    try {
      showClock(Object.assign(clock, await estimateClockOffset()));
    } catch {
      // The server is unreachable for now; the transports show it, and the next estimate will retry.
    }
  }, 60_000);
  document.body.dataset.ready = 'true';
}

const bearer = (token) => (token ? { Authorization: `Bearer ${token}` } : {});

// The demo's sign-in: a name, no password (POST /api/token). Resolves, once a name is accepted, with the function each
// panel asks for its tokens: a new token from the host each time.
function signIn() {
  const form = $('#sign-in-form');
  const status = $('#sign-in-status');
  form.hidden = false;
  $('.lede').append(' This host requires a token to read: sign in with a name.');
  return new Promise((resolve) => {
    const request = async (name) => {
      const response = await fetch('/api/token', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name }),
      });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(body.detail ?? Object.values(body.errors ?? {}).flat().join('; ') ?? `HTTP ${response.status}`);
      return body;
    };
    form.addEventListener('submit', async (submit) => {
      submit.preventDefault();
      const name = $('#sign-in-name').value;
      try {
        const first = await request(name);
        status.textContent = `signed in as ${name}; tokens last ${Math.round((Date.parse(first.expiresAt) - Date.now()) / 1000)} s`;
        $('#sign-in-name').disabled = $('#sign-in-button').disabled = true;
        document.body.dataset.signedIn = name;
        resolve(() => request(name));
      } catch (error) {
        status.textContent = `refused: ${error.message}`;
      }
    });
  });
}

// "Let tokens expire": no panel renews its token ahead of expiry, so the host ends each long-lived connection when
// its token runs out, and each technique shows how it signs in again and resumes.
function wireLetExpire(panels) {
  const box = $('#let-expire');
  box.addEventListener('change', () => {
    for (const panel of panels) {
      if (panel.name === 'auto') panel.transport.set('refreshBeforeExpiry', !box.checked);
      else panel.transport.refreshBeforeExpiry = !box.checked;
    }
  });
}

function debounce(action, milliseconds) {
  let timer = 0;
  return () => {
    if (!timer) timer = setTimeout(() => { timer = 0; action(); }, milliseconds);
  };
}

// What this host offers besides the stream: the latest benchmark report, when one has been written next to the page
// (bench --out wwwroot/bench); whether publishing needs its key, when the page asks for it; and, for a page loaded
// over plain HTTP, the host's HTTPS address, where the browser would speak HTTP/2.
function showHostOptions({ benchReport, publishKeyRequired, https }) {
  if (benchReport) {
    $('#bench-link a').href = benchReport;
    $('#bench-link').hidden = false;
  }
  $('#publish-key-field').hidden = !publishKeyRequired;
  if (https) {
    const link = $('#https-link');
    link.href = https;
    link.textContent = `open this page at ${https}`;
  }
  $('#https-offer').hidden = !https;
  $('#https-missing').hidden = Boolean(https);
}

// The techniques that hold a connection while they wait: the stream, the socket, and the long poll between answers.
const longLived = { sse: ['open', 'the SSE stream'], 'long-poll': ['waiting', 'the held long poll'], websocket: ['open', 'the WebSocket'] };

// The technique a panel uses: its own, or for the automatic panel the one it is on.
const techniqueOf = (panel) => (panel.name === 'auto' ? panel.root.dataset.current : panel.name);

// Each panel's HTTP version, and how many connections the page holds for its long-lived techniques.
function renderConnections(panels, protocols) {
  for (const panel of panels) panel.showProtocol(protocols.describe(techniqueOf(panel)));
  const held = panels.filter((panel) => longLived[techniqueOf(panel)]?.[0] === panel.root.dataset.state);
  const open = held.map((panel) => (panel.name === 'auto' ? `the automatic panel's ${techniqueOf(panel)}` : longLived[panel.name][1]));
  const overHttp = held.filter((panel) => techniqueOf(panel) !== 'websocket').length;
  const socket = held.some((panel) => techniqueOf(panel) === 'websocket');
  let connections;
  if (protocols.multiplexed) {
    connections = `Over ${protocols.current} this page's requests are streams of one connection, shared with this origin's other tabs`
      + `${socket ? "; a WebSocket's connection is not exposed to pages (its own, or one more stream where the browser does RFC 8441)" : ''}.`;
  } else if (protocols.current === 'http/1.1') {
    connections = `Over http/1.1 that is ${open.length} connection${open.length === 1 ? '' : 's'}, one each`
      + `${overHttp > 0 ? `; ${overHttp} of them count against the browser's ~6 per origin` : ''}.`;
  } else {
    connections = 'Which HTTP version carries them is not known yet.';
  }
  const summary = $('#connections');
  summary.dataset.longLived = open.length;
  summary.dataset.protocol = protocols.current;
  summary.dataset.shared = protocols.multiplexed;
  summary.textContent = open.length === 0
    ? `No long-lived transport open${protocols.current ? ` (over ${protocols.current})` : ''}.`
    : `${open.length} long-lived transport${open.length === 1 ? '' : 's'} open: ${open.join(', ')}. ${connections}`;
}

function showClock(clock) {
  $('#clock-offset').textContent = `${Math.round(clock.offset)} ms (round trip ${clock.roundTrip} ms)`;
  $('#stream-epoch').textContent = clock.epoch;
}

// A polite voice for what a person wants to hear about: chat messages and gap signals, once, not per panel.
const announced = new Set();
function announce(text) {
  if (announced.has(text)) return;
  announced.add(text);
  setTimeout(() => announced.delete(text), 5000);
  $('#announcer').textContent = text;
}

function wirePublish(webSocket, getToken) {
  const status = $('#publish-status');
  const key = $('#publish-key');

  // The socket presents the key when it connects: a new key means a new connection, which resumes from its cursor.
  // A socket the visitor disconnected stays so; it presents the key when connected again.
  key.addEventListener('change', () => {
    webSocket.publishKey = key.value;
    if (!webSocket.running) return;
    webSocket.stop();
    webSocket.start();
  });

  $('#publish-form').addEventListener('submit', async (submit) => {
    submit.preventDefault();
    const input = $('#publish-text');
    const data = { text: input.value };
    let sent = false;
    if ($('#publish-via').value === 'websocket') {
      sent = webSocket.publish('chat', data);
      status.textContent = sent ? 'sent on the WebSocket' : 'the WebSocket panel is not connected';
    } else {
      try {
        // Signed in, the token is the bearer (the host stamps the event with its name) and the key has its own header.
        const token = getToken ? (await getToken()).token : null;
        const keyHeader = key.value ? (token ? { 'X-Publish-Key': key.value } : bearer(key.value)) : {};
        const response = await fetch('/api/events', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', ...bearer(token), ...keyHeader },
          body: JSON.stringify({ type: 'chat', data }),
        });
        const body = await response.json().catch(() => ({}));
        sent = response.ok;
        status.textContent = sent
          ? `published as #${body.seq}`
          : `refused (${response.status}): ${body.detail ?? Object.values(body.errors ?? {}).flat().join('; ') ?? ''}`;
      } catch (error) {
        status.textContent = `not sent: ${error.message}`;
      }
    }
    // Keep the text when it did not go out, so it can be sent again.
    if (sent) input.value = '';
  });
}

function wirePollInterval(shortPoll, automatic) {
  const input = $('#poll-interval');
  const apply = () => {
    const seconds = Math.min(30, Math.max(1, Number(input.value) || 2));
    shortPoll.interval = seconds * 1000;
    automatic.set('shortPollIntervalMs', seconds * 1000);
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
    // Polls make requests at a steady pace, so their rate extrapolates; a stream holds one connection,
    // so what is worth showing is how many it has needed, reconnects included.
    const streaming = ['sse', 'websocket'].includes(techniqueOf(panel));
    const cells = [
      panel.title,
      streaming ? `${requests} connection${requests === 1 ? '' : 's'}` : hours > 0 ? Math.round(requests / hours).toLocaleString() : '–',
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

main().catch((error) => {
  // The page cannot start without the server (clock, start cursor): say so instead of staying blank.
  $('.lede').textContent = `Could not reach the server (${error.message}). Reload once it is running.`;
});
