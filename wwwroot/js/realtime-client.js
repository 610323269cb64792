// A browser client for RealtimeDemo's event stream: four techniques behind one interface, each resuming from its
// cursor, each watching the path for silence, and RealtimeClient, which picks the best technique this network allows,
// falls back when one does not work and moves back up when it does. No dependencies: copy this file into your page.
// docs/client.md says how to use it and how it decides; docs/protocol.md is the wire it speaks.
//
// Every technique reports to a sink, an object whose methods are all optional:
//   event(evt)         an event, in order, each once
//   gap(detail)        events between the cursor and the next event are lost (detail: reason, cursor)
//   state(name)        connecting | open | waiting | reconnecting | closed
//   heartbeat(detail)  the server said it is alive (detail.head: the newest cursor it has)
//   silence(ms)        nothing heard for ms: the connection was dropped as dead and is being resumed
//   request() received(bytes) empty() reconnect() error(text)   for pages that count costs
//   opened()           the technique works on this path: a welcome arrived, or a poll was answered
//   failed(info)       an attempt failed: info = { reason, everWorked, failuresInRow }; the sink may stop the technique
//   token(credential)  a token is in use: { token, expiresAt } (expiresAt in ms since the epoch)
//   expired()          the host ended the connection at its token's expiry; it resumes with a new token
// RealtimeClient adds: switched({ from, to, reason }) and current(name).
//
// On a host that requires tokens, pass options.getToken: an async function that returns { token, expiresAt } (what
// POST /api/token answers). Each technique carries it its own way: polls as Authorization: Bearer on every request,
// SSE and WebSocket as ?access_token= (browsers cannot set their headers). Before expiry it takes a new one: the next
// poll sends it, SSE reconnects with it from its cursor, and WebSocket refreshes it in place; with
// options.refreshBeforeExpiry = false it waits for the host to end the connection at expiry, then signs in again.

const encoder = new TextEncoder();
export const byteLength = (text) => encoder.encode(text).length;

/** The techniques, most preferred first: the order RealtimeClient tries them in. */
export const techniques = ['websocket', 'sse', 'long-poll', 'short-poll'];

/** What the host sends when it says nothing else: 15 s unless the host says otherwise (welcome, /api/stats). */
export const defaultHeartbeatMs = 15_000;

// How long a path may stay silent before the client gives up on it: twice the heartbeat, and a second for the
// slowest honest hop. A stream hears a heartbeat at least once per interval; a held long poll answers within one.
const patienceFor = (heartbeatMs) => 2 * heartbeatMs + 1000;

// Exponential backoff with full jitter over the top half: 0.5 s, 1 s, 2 s … up to 30 s, reset by a success. The jitter
// spreads a crowd of clients that lost their connections at one instant over the interval instead of one wave.
export class Backoff {
  #attempt = 0;
  constructor({ initialMs = 500, maxMs = 30_000 } = {}) {
    this.initialMs = initialMs;
    this.maxMs = maxMs;
  }

  next() {
    const ceiling = Math.min(this.maxMs, this.initialMs * 2 ** this.#attempt++);
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  reset() { this.#attempt = 0; }
}

// What the browser can see of a response's size: status line, headers and body (chunk framing is not visible).
function responseBytes(response, body) {
  let headers = `HTTP/1.1 ${response.status} ${response.statusText}\r\n`.length + 2;
  response.headers.forEach((value, name) => { headers += name.length + value.length + 4; });
  return headers + byteLength(body);
}

// How long a token lasts: its exp minus its iat where it is a JWT (both by the host's clock, so their difference holds
// on any clock), less a second because both are whole seconds (it may have been issued up to a second after its iat);
// else until expiresAt by this client's clock.
function lifetimeOf(token, expiresAt) {
  try {
    const payload = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
    if (Number.isFinite(payload.exp) && Number.isFinite(payload.iat) && payload.exp > payload.iat + 1) return (payload.exp - payload.iat - 1) * 1000;
  } catch {
    // Not a JWT the client can read: take the host's word for the expiry.
  }
  return new Date(expiresAt).getTime() - Date.now();
}

/**
 * What the four techniques share: start from a cursor, keep it as events arrive, reconnect with backoff, notice a
 * silent path. Options: baseUrl (default: this page's origin), heartbeatMs (what the host is configured for; a
 * stream's welcome corrects it).
 */
class Technique {
  cursor = null;
  running = false;
  #backoff = new Backoff();
  #retryTimer = 0;
  #silenceTimer = 0;
  #everWorked = false;
  #failuresInRow = 0;
  #credential = null; // { token, expiresAt }
  #refreshTimer = 0;
  #streamAttempt = 0;

  constructor(sink = {}, options = {}) {
    this.sink = sink;
    this.baseUrl = new URL(options.baseUrl ?? '/', location.href);
    this.heartbeatMs = options.heartbeatMs ?? defaultHeartbeatMs;
    this.getToken = options.getToken ?? null;
    this.refreshBeforeExpiry = options.refreshBeforeExpiry ?? true;
  }

  get patienceMs() { return patienceFor(this.heartbeatMs); }

  start(cursor) {
    if (this.running) return;
    this.cursor ??= cursor ?? null;
    this.running = true;
    this.connect();
  }

  stop() {
    this.running = false;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#silenceTimer);
    clearTimeout(this.#refreshTimer);
    this.#credential = null; // started again, it takes a new one, and its renewal with it
    this.disconnect();
    this.sink.state?.('closed');
  }

  // Cuts the connection abruptly, as a network failure would; the technique then recovers on its own.
  // A drop is not a failed attempt, so the backoff starts afresh.
  drop() {
    if (!this.running) return;
    clearTimeout(this.#silenceTimer);
    this.disconnect();
    this.#backoff.reset();
    this.#schedule();
  }

  // An attempt failed: say so (the sink may stop us, RealtimeClient falling back), then try again after the backoff.
  reconnectLater(reason) {
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#silenceTimer);
    if (!this.running) return;
    this.#failuresInRow++;
    this.sink.failed?.({ reason, everWorked: this.#everWorked, failuresInRow: this.#failuresInRow });
    if (this.running) this.#schedule();
  }

  #schedule() {
    clearTimeout(this.#retryTimer);
    this.sink.state?.('reconnecting');
    this.sink.reconnect?.();
    this.#retryTimer = setTimeout(() => this.running && this.connect(), this.#backoff.next());
  }

  // The path works: the welcome arrived, or a poll was answered.
  worked() {
    this.#backoff.reset();
    this.#failuresInRow = 0;
    this.#everWorked = true;
    this.sink.opened?.();
  }

  // A stream heard from the server: it is alive for another patience. Silence past it means the path is dead (a
  // NAT forgot it, the network changed, a proxy buffers the stream): drop the connection and resume elsewhere.
  heard() {
    clearTimeout(this.#silenceTimer);
    this.#silenceTimer = setTimeout(() => {
      if (!this.running) return;
      this.sink.silence?.(this.patienceMs);
      this.disconnect();
      this.reconnectLater('silent');
    }, this.patienceMs);
  }

  // The token to connect with (null where the host needs none): the one in hand, or a new one when it has expired or
  // is about to, or when the host refused it (renew). A new one is due again shortly before it expires.
  async token(renew = false) {
    if (!this.getToken) return null;
    if (renew || !this.#credential || this.#credential.expiresAt - Date.now() <= this.#refreshMargin()) {
      const { token, expiresAt } = await this.getToken();
      // Timed by this client's clock, from the token's lifetime: the host's clock and this one may differ by seconds.
      const issuedAt = Date.now();
      this.#credential = { token, expiresAt: issuedAt + lifetimeOf(token, expiresAt), issuedAt };
      this.sink.token?.(this.#credential);
      clearTimeout(this.#refreshTimer);
      if (this.refreshBeforeExpiry) {
        // At least a second apart, whatever the lifetime: renewal must never turn into a loop.
        const due = Math.max(1000, this.#credential.expiresAt - this.#refreshMargin() - Date.now());
        this.#refreshTimer = setTimeout(() => this.running && this.refreshBeforeExpiry && this.tokenDue(), due);
      }
    }
    return this.#credential.token;
  }

  // A tenth of the token's lifetime, at most 30 s: time enough to take a new one before the old one runs out.
  #refreshMargin() {
    if (!this.#credential) return 0;
    return Math.min(30_000, (this.#credential.expiresAt - this.#credential.issuedAt) / 10);
  }

  // Shortly before the token expires: polls need nothing (the next one takes a new token); streams override it.
  tokenDue() {}

  // A poll was refused for its token (401): sign in again and ask at once, unless the token was brand new, which means
  // the host refuses this client's tokens altogether: then it is a failure like any other.
  unauthorized() {
    const fresh = this.#credential && Date.now() - this.#credential.issuedAt < 1000;
    if (!fresh) {
      this.expired();
      return;
    }
    this.#credential = null;
    this.sink.error?.('the host refused a new token');
    this.reconnectLater('refused');
  }

  // The host ended the connection at the token's expiry: not a failure; sign in again and resume at once.
  expired() {
    this.#credential = null;
    this.sink.expired?.();
    this.reconnectNow();
  }

  // A planned reconnect (a new token, an expiry): not a failure, so no backoff, and nothing else pending.
  reconnectNow() {
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#silenceTimer);
    this.disconnect();
    if (this.running) this.connect();
  }

  // What both streams' connect() start with: the connection they replace closed, the silence watch on, the token
  // taken. { token } to go on (token null where the host needs none); null when the attempt failed (a reconnect is
  // scheduled) or was overtaken meanwhile by a disconnect, a stop or another connect.
  async openStream() {
    this.disconnect();
    const attempt = this.#streamAttempt;
    this.sink.state?.('connecting');
    this.heard();
    let token;
    try {
      token = await this.token();
    } catch {
      if (attempt === this.#streamAttempt) this.reconnectLater('failed');
      return null;
    }
    return attempt === this.#streamAttempt && this.running ? { token } : null;
  }

  // A stream's disconnect() calls it: any openStream() still waiting for its token gives up.
  abandon() { this.#streamAttempt++; }

  // A welcome names the host's heartbeat interval: watch at that pace from now on.
  learn(welcome) {
    if (Number.isFinite(welcome.heartbeatMs) && welcome.heartbeatMs > 0) this.heartbeatMs = welcome.heartbeatMs;
  }

  deliver(evt) {
    if (!this.running) return;
    this.cursor = evt.id;
    this.sink.event?.(evt);
  }

  // The stream continues after the gap's cursor: adopt it, so a reconnect before the next event resumes there.
  signalGap(detail) {
    if (detail.cursor) this.cursor = detail.cursor;
    this.sink.gap?.(detail);
  }

  // A cursor the server refuses (400) cannot be retried as it is: start again from now, and say so.
  refused(detail) {
    this.cursor = null;
    this.sink.error?.(`cursor refused, starting from now: ${detail}`);
  }

  url(path, query = {}) {
    const url = new URL(path, this.baseUrl);
    for (const [name, value] of Object.entries(query)) if (value !== null && value !== undefined && value !== '') url.searchParams.set(name, value);
    return url;
  }
}

// The part both polling techniques share: one GET with a deadline, its body applied to the cursor.
class PollingTechnique extends Technique {
  #controller = null;

  disconnect() {
    this.#controller?.abort();
    this.#controller = null;
  }

  // True when the poll was answered (events applied); false when it failed and a reconnect is scheduled.
  async poll(path, query, deadlineMs) {
    const controller = this.#controller = new AbortController();
    const deadline = AbortSignal.timeout(deadlineMs);
    try {
      const token = await this.token();
      if (controller !== this.#controller) return false;
      this.sink.request?.();
      const response = await fetch(this.url(path, { after: this.cursor, ...query }), {
        signal: AbortSignal.any([controller.signal, deadline]),
        cache: 'no-store',
        headers: token ? { Authorization: `Bearer ${token}` } : {},
      });
      const text = await response.text();
      if (controller !== this.#controller) return false;
      this.sink.received?.(responseBytes(response, text));
      if (response.status === 401) {
        this.unauthorized();
        return false;
      }
      if (response.status === 400) {
        this.refused(text);
        this.reconnectLater('refused');
        return false;
      }
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const body = JSON.parse(text);
      this.worked();
      if (body.gap) this.sink.gap?.({ reason: 'expired or epoch-changed' });
      if (body.events.length === 0) this.sink.empty?.();
      for (const evt of body.events) this.deliver(evt);
      this.cursor = body.cursor;
      return true;
    } catch {
      if (controller !== this.#controller || !this.running) return false;
      // No answer by the deadline: the path is silent, not merely slow.
      if (deadline.aborted) this.sink.silence?.(deadlineMs);
      this.reconnectLater(deadline.aborted ? 'silent' : 'failed');
      return false;
    }
  }
}

/** Short polling: ask, take what is there, wait the interval, ask again. A poll answers at once, so it gets little patience. */
export class ShortPollTechnique extends PollingTechnique {
  name = 'short-poll';
  #interval;
  #timer = 0;
  #waitingSince = null; // when the wait under way began (performance.now()); null while asking or stopped

  constructor(sink, options = {}) {
    super(sink, options);
    this.#interval = options.shortPollIntervalMs ?? 2000;
  }

  get interval() { return this.#interval; }

  // A new interval applies to the wait under way too: the next poll comes that long after the last one, rather
  // than after the rest of a wait that may have been 30 s.
  set interval(ms) {
    this.#interval = ms;
    if (this.#waitingSince !== null) this.#askAfter(Math.max(0, this.#waitingSince + ms - performance.now()));
  }

  async connect() {
    this.#waitingSince = null;
    this.sink.state?.('connecting');
    if (await this.poll('api/poll', {}, this.heartbeatMs + 1000) && this.running) {
      this.sink.state?.('waiting');
      this.#waitingSince = performance.now();
      this.#askAfter(this.#interval);
    }
  }

  #askAfter(delay) {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.running && this.connect(), delay);
  }

  disconnect() {
    clearTimeout(this.#timer);
    this.#waitingSince = null;
    super.disconnect();
  }
}

/**
 * Long polling: the request is held until an event exists after the cursor, or for one heartbeat interval, then
 * asked again at once. The empty answer is its heartbeat: a hold that outlasts it twice means the path is dead.
 */
export class LongPollTechnique extends PollingTechnique {
  name = 'long-poll';

  async connect() {
    this.sink.state?.('waiting');
    while (this.running && await this.poll('api/longpoll', { timeout: this.heartbeatMs / 1000 }, this.patienceMs)) {
      this.sink.state?.('waiting');
    }
  }
}

/**
 * Server-Sent Events through the browser's EventSource, which reconnects by itself (sending Last-Event-ID). The
 * named welcome and heartbeat events are what it hears the server by: EventSource hides comments from pages.
 */
export class SseTechnique extends Technique {
  name = 'sse';
  #source = null;
  #welcomed = false;

  async connect() {
    const opening = await this.openStream();
    if (!opening) return;
    const source = this.#source = new EventSource(this.url('api/sse', { after: this.cursor, access_token: opening.token }));
    this.#welcomed = false;
    // Only the source in use may speak: one replaced or closed is ignored, whatever it still dispatches.
    const on = (type, handler) => source.addEventListener(type, (message) => {
      if (source === this.#source) handler(message);
    });
    on('open', () => {
      this.sink.request?.();
      this.sink.state?.('open');
    });
    on('welcome', (message) => {
      this.learn(JSON.parse(message.data));
      this.heard(); // at the pace just learned
      this.#welcomed = true;
      this.worked();
    });
    on('heartbeat', (message) => {
      this.heard();
      this.sink.received?.(byteLength(`event: heartbeat\ndata: ${message.data}\n\n`));
      this.sink.heartbeat?.(JSON.parse(message.data));
    });
    on('message', (message) => {
      this.heard();
      this.sink.received?.(byteLength(`id: ${message.lastEventId}\ndata: ${message.data}\n\n`));
      this.deliver(JSON.parse(message.data));
    });
    on('gap', (message) => {
      this.heard();
      this.sink.received?.(byteLength(`id: ${message.lastEventId}\nevent: gap\ndata: ${message.data}\n\n`));
      this.signalGap(JSON.parse(message.data));
    });
    // The token ran out: the host ends the stream. EventSource would reconnect to the same URL, with the same
    // expired token in it; a new URL with a new token is ours to open.
    on('expired', () => this.expired());
    on('error', () => {
      if (source.readyState === EventSource.CLOSED || !this.#welcomed) {
        // EventSource gave up (an HTTP error), or this attempt failed before the host said welcome (refused, out of
        // reach): reconnect ourselves, with backoff.
        this.disconnect();
        this.reconnectLater('refused');
      } else {
        // A stream that worked dropped: EventSource reconnects by itself, with Last-Event-ID, after the server's
        // retry. Its next attempt must say welcome again, or we take over.
        this.#welcomed = false;
        this.sink.state?.('reconnecting');
        this.sink.reconnect?.();
      }
    });
  }

  // A token in a URL cannot be refreshed in place: shortly before it expires, reconnect with a new one, from the cursor.
  async tokenDue() {
    try {
      await this.token(true);
    } catch {
      return; // no new token now: at expiry the host ends the stream, and we sign in again then
    }
    this.reconnectNow();
  }

  disconnect() {
    this.abandon();
    this.#source?.close();
    this.#source = null;
  }
}

/** WebSocket: one JSON event per text frame; control messages (welcome, heartbeat, gap, error) carry "control". */
export class WebSocketTechnique extends Technique {
  name = 'websocket';
  #socket = null;

  constructor(sink, options = {}) {
    super(sink, options);
    // The host's publish key, when it has one: a browser cannot set headers on a WebSocket, so it goes in ?token=.
    this.publishKey = options.publishKey ?? '';
  }

  async connect() {
    const opening = await this.openStream();
    if (!opening) return;
    const url = this.url('ws', { after: this.cursor, token: this.publishKey, access_token: opening.token });
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = this.#socket = new WebSocket(url);
    socket.onopen = () => {
      this.sink.request?.();
      this.sink.state?.('open');
    };
    socket.onmessage = (message) => {
      if (socket !== this.#socket) return;
      this.heard();
      const length = byteLength(message.data);
      this.sink.received?.(length + (length < 126 ? 2 : length < 65536 ? 4 : 10)); // server frames: header, no mask
      const parsed = JSON.parse(message.data);
      switch (parsed.control) {
        case undefined: this.deliver(parsed); break;
        case 'welcome': this.learn(parsed); this.heard(); this.worked(); break;
        case 'heartbeat': this.sink.heartbeat?.(parsed); break;
        case 'gap': this.signalGap(parsed); break;
        case 'error': this.sink.error?.(parsed.message); break;
        case 'refreshed': break; // the new token's expiry stands; the sink heard of the token when it was taken
        default: break; // a control message this client does not know: ignored, as the protocol asks
      }
    };
    socket.onclose = (closed) => {
      if (socket !== this.#socket) return;
      this.#socket = null;
      // The token ran out (4401): sign in again and resume at once.
      if (closed.code === 4401) {
        this.expired();
        return;
      }
      // A refusal names its rule (1008: publishing needs the host's key; 1009: message too large).
      if (closed.reason && closed.code !== 1000 && closed.code !== 1001) this.sink.error?.(`closed (${closed.code}): ${closed.reason}`);
      this.reconnectLater('closed');
    };
  }

  // The one technique that can refresh a token without reconnecting: send the new one on the socket.
  async tokenDue() {
    try {
      const token = await this.token(true);
      if (this.#socket?.readyState === WebSocket.OPEN) this.#socket.send(JSON.stringify({ type: 'refresh', token }));
    } catch {
      // No new token now (the host is out of reach): at expiry the host closes with 4401 and we sign in again then.
    }
  }

  disconnect() {
    this.abandon();
    const socket = this.#socket;
    this.#socket = null;
    // A page cannot cut TCP itself; closing without waiting for anything is the closest it has to a drop.
    socket?.close(4000, 'dropped by the client');
  }

  // The bidirectional case: publish on the same socket the events arrive on.
  publish(type, data) {
    if (this.#socket?.readyState !== WebSocket.OPEN) return false;
    this.#socket.send(JSON.stringify({ type: 'publish', event: { type, data } }));
    return true;
  }
}

const classes = {
  websocket: WebSocketTechnique,
  sse: SseTechnique,
  'long-poll': LongPollTechnique,
  'short-poll': ShortPollTechnique,
};

/** One technique by name: 'websocket', 'sse', 'long-poll' or 'short-poll'. */
export function createTechnique(name, sink, options) {
  const Class = classes[name];
  if (!Class) throw new Error(`unknown technique: ${name}`);
  return new Class(sink, options);
}

/**
 * Reads the stream with the most preferred technique that works on this path, and carries the cursor across every
 * change, so no event is lost or shown twice. Options, besides each technique's:
 *   techniques      the order of preference (default: websocket, sse, long-poll, short-poll)
 *   retryPreferredMs how often to try the techniques above the one in use (default: 4 heartbeats, at least 5 s)
 *   failuresToFallBack  failures in a row, of a technique that worked here before, that make it give way (default 3)
 */
export class RealtimeClient {
  running = false;
  #options;
  #order;
  #index = -1;
  #technique = null;
  #cursor = null;
  #probe = null;
  #probeTimer = 0;
  #retryTimer = 0;
  #offline = new Backoff({ initialMs: 1000 });

  constructor(sink = {}, options = {}) {
    this.sink = sink;
    this.#options = { ...options };
    this.#order = [...(options.techniques ?? techniques)];
  }

  /** The technique in use ('websocket', …), or null when stopped. */
  get current() { return this.#technique?.name ?? null; }

  /** Where the stream stands: the cursor the next connection would resume from. */
  get cursor() { return this.#technique?.cursor ?? this.#cursor; }

  get heartbeatMs() { return this.#options.heartbeatMs ?? defaultHeartbeatMs; }

  /** The technique in use, to publish on its WebSocket or change its short-poll interval. */
  get technique() { return this.#technique; }

  get retryPreferredMs() { return this.#options.retryPreferredMs ?? Math.max(5000, 4 * this.heartbeatMs); }

  /** Changes an option for the techniques to come and, where it can, for the one in use. */
  set(option, value) {
    this.#options[option] = value;
    const technique = this.#technique;
    if (option === 'shortPollIntervalMs' && technique?.name === 'short-poll') technique.interval = value;
    if (option === 'refreshBeforeExpiry' && technique) technique.refreshBeforeExpiry = value;
  }

  start(cursor) {
    if (this.running) return;
    this.running = true;
    this.#cursor ??= cursor ?? null;
    this.#use(0, null);
  }

  stop() {
    this.running = false;
    clearTimeout(this.#retryTimer);
    this.#stopProbe();
    this.#leave();
    this.sink.state?.('closed');
  }

  /** Cuts the connection of the technique in use, as a network failure would. */
  drop() { this.#technique?.drop(); }

  // Switches to the technique at index, from the cursor the last one reached. The old one is stopped first and
  // ignores whatever it receives after: the new one starts exactly where it stood.
  #use(index, reason) {
    const from = this.current;
    clearTimeout(this.#retryTimer);
    this.#leave();
    this.#index = index;
    const name = this.#order[index];
    const technique = this.#technique = createTechnique(name, this.#sinkFor(() => this.#technique === technique), this.#options);
    if (from !== name) {
      this.sink.current?.(name);
      if (from || reason) this.sink.switched?.({ from, to: name, reason });
    }
    technique.start(this.#cursor);
    this.#scheduleProbe();
  }

  #leave() {
    const old = this.#technique;
    if (!old) return;
    this.#technique = null;
    this.#cursor = old.cursor ?? this.#cursor;
    old.stop();
  }

  // The sink each technique reports to: passed on while it is the one in use; its failures decide a fallback.
  #sinkFor(isCurrent) {
    const outer = this.sink;
    const pass = (method) => (...args) => { if (isCurrent()) outer[method]?.(...args); };
    return {
      event: pass('event'),
      gap: pass('gap'),
      state: pass('state'),
      heartbeat: pass('heartbeat'),
      silence: pass('silence'),
      request: pass('request'),
      received: pass('received'),
      empty: pass('empty'),
      reconnect: pass('reconnect'),
      error: pass('error'),
      token: pass('token'),
      expired: pass('expired'),
      opened: () => {
        if (!isCurrent()) return;
        this.#offline.reset();
        this.#options.heartbeatMs = this.#technique.heartbeatMs; // learned from a welcome: every technique watches at it
        outer.opened?.();
      },
      failed: (info) => { if (isCurrent()) this.#failed(info); },
    };
  }

  // A technique that never worked on this path gives way at its first failure (an upgrade refused, a stream that
  // never said welcome); one that did, after several failures in a row. The last one, failing too, means the host is
  // out of reach: start again from the top after a backoff.
  #failed({ reason, everWorked, failuresInRow }) {
    const failuresToFallBack = this.#options.failuresToFallBack ?? 3;
    if (everWorked && failuresInRow < failuresToFallBack) return;
    const why = everWorked ? 'failures' : reason === 'silent' ? 'silent' : 'refused';
    if (this.#index + 1 < this.#order.length) {
      this.#use(this.#index + 1, why);
    } else if (!everWorked) {
      this.#stopProbe();
      this.#leave();
      this.sink.state?.('reconnecting');
      this.sink.reconnect?.();
      clearTimeout(this.#retryTimer);
      this.#retryTimer = setTimeout(() => this.running && this.#use(0, 'retry'), this.#offline.next());
    }
  }

  // While below the most preferred technique, tries the ones above from time to time (with jitter, so a crowd of
  // clients does not probe in step), without touching the stream: a probe that works becomes the technique in use.
  #scheduleProbe() {
    clearTimeout(this.#probeTimer);
    if (this.#index <= 0 || !this.running) return;
    const delay = this.retryPreferredMs * (0.8 + 0.4 * Math.random());
    this.#probeTimer = setTimeout(() => this.#probeFrom(0), delay);
  }

  #probeFrom(candidate) {
    this.#stopProbe();
    if (!this.running || candidate >= this.#index) {
      this.#scheduleProbe();
      return;
    }
    let settled = false;
    const probe = this.#probe = createTechnique(this.#order[candidate], {
      opened: () => {
        if (settled || probe !== this.#probe) return;
        settled = true;
        this.#stopProbe();
        this.#use(candidate, 'preferred');
      },
      failed: () => {
        if (settled || probe !== this.#probe) return;
        settled = true;
        this.#probeFrom(candidate + 1);
      },
    }, this.#options);
    probe.start(this.cursor);
  }

  #stopProbe() {
    clearTimeout(this.#probeTimer);
    const probe = this.#probe;
    this.#probe = null;
    probe?.stop();
  }
}
