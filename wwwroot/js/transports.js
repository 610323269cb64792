// The four client techniques behind one small interface: start(cursor), stop(), drop().
// Each reports to a sink: state(name), request(), received(bytes), empty(), event(evt), gap(detail),
// reconnect(), error(text). Every one resumes from its cursor (the id of the last event it received).

const encoder = new TextEncoder();
export const byteLength = (text) => encoder.encode(text).length;

// Exponential backoff with jitter: 0.5 s, 1 s, 2 s … up to 30 s, reset by a successful connection.
class Backoff {
  #attempt = 0;
  next() {
    const ceiling = Math.min(30_000, 500 * 2 ** this.#attempt++);
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

class Transport {
  cursor = null;
  running = false;
  #backoff = new Backoff();
  #retryTimer = 0;

  constructor(sink) { this.sink = sink; }

  start(cursor) {
    if (this.running) return;
    this.cursor ??= cursor;
    this.running = true;
    this.connect();
  }

  stop() {
    this.running = false;
    clearTimeout(this.#retryTimer);
    this.disconnect();
    this.sink.state('closed');
  }

  // Cuts the connection abruptly, as a network failure would; the transport then recovers on its own.
  // A drop is not a failed attempt, so the backoff starts afresh.
  drop() {
    if (!this.running) return;
    this.disconnect();
    this.#backoff.reset();
    this.reconnectLater();
  }

  reconnectLater() {
    clearTimeout(this.#retryTimer);
    if (!this.running) return;
    this.sink.state('reconnecting');
    this.sink.reconnect();
    this.#retryTimer = setTimeout(() => this.running && this.connect(), this.#backoff.next());
  }

  connected() { this.#backoff.reset(); }

  deliver(evt) {
    this.cursor = evt.id;
    this.sink.event(evt);
  }

  // The stream continues after the gap's cursor: adopt it, so a reconnect before the next event resumes there.
  signalGap(detail) {
    if (detail.cursor) this.cursor = detail.cursor;
    this.sink.gap(detail);
  }

  // A cursor the server refuses (400) cannot be retried as it is: start again from now, and say so.
  refused(detail) {
    this.cursor = null;
    this.sink.error(`cursor refused, starting from now: ${detail}`);
  }
}

// The part both polling techniques share: one GET, its body applied to the cursor.
class PollingTransport extends Transport {
  #controller = null;

  disconnect() {
    this.#controller?.abort();
    this.#controller = null;
  }

  // Returns true when the poll succeeded (events applied), false when it failed and a reconnect is scheduled.
  async poll(path) {
    const controller = this.#controller = new AbortController();
    try {
      const url = new URL(path, location.origin);
      if (this.cursor) url.searchParams.set('after', this.cursor);
      this.sink.request();
      // A deadline past the longest hold (25 s) so a silently dead connection cannot stall the panel.
      const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(40_000)]);
      const response = await fetch(url, { signal, cache: 'no-store' });
      const text = await response.text();
      if (controller !== this.#controller) return false;
      this.sink.received(responseBytes(response, text));
      if (response.status === 400) {
        this.refused(text);
        this.reconnectLater();
        return false;
      }
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const body = JSON.parse(text);
      if (body.gap) this.sink.gap({ reason: 'expired or epoch-changed' });
      if (body.events.length === 0) this.sink.empty();
      for (const evt of body.events) this.deliver(evt);
      this.cursor = body.cursor;
      this.connected();
      return true;
    } catch {
      if (controller === this.#controller && this.running) this.reconnectLater();
      return false;
    }
  }
}

// Short polling: ask, take what is there, wait the interval, ask again.
export class ShortPollTransport extends PollingTransport {
  #interval = 2000;
  #timer = 0;
  #waitingSince = null; // when the wait under way began (performance.now()); null while asking or stopped

  get interval() { return this.#interval; }

  // A new interval applies to the wait under way too: the next poll comes that long after the last one, rather
  // than after the rest of a wait that may have been 30 s.
  set interval(ms) {
    this.#interval = ms;
    if (this.#waitingSince !== null) this.#askAfter(Math.max(0, this.#waitingSince + ms - performance.now()));
  }

  async connect() {
    this.#waitingSince = null;
    this.sink.state('connecting');
    if (await this.poll('/api/poll') && this.running) {
      this.sink.state('waiting');
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

// Long polling: the request is held until an event exists after the cursor (or 25 s pass), then asked again at once.
export class LongPollTransport extends PollingTransport {
  async connect() {
    this.sink.state('waiting');
    while (this.running && await this.poll('/api/longpoll?timeout=25')) {
      this.sink.state('waiting');
    }
  }
}

// Server-Sent Events through the browser's EventSource, which reconnects by itself (sending Last-Event-ID).
// A drop closes it; our reconnect then opens a new one with ?after= the last id.
export class SseTransport extends Transport {
  #source = null;

  connect() {
    this.sink.state('connecting');
    const query = this.cursor ? `?after=${encodeURIComponent(this.cursor)}` : '';
    const source = this.#source = new EventSource(`/api/sse${query}`);
    source.onopen = () => {
      this.connected();
      this.sink.request();
      this.sink.state('open');
    };
    source.onmessage = (message) => {
      this.sink.received(byteLength(`id: ${message.lastEventId}\ndata: ${message.data}\n\n`));
      this.deliver(JSON.parse(message.data));
    };
    source.addEventListener('gap', (message) => {
      this.sink.received(byteLength(`id: ${message.lastEventId}\nevent: gap\ndata: ${message.data}\n\n`));
      this.signalGap(JSON.parse(message.data));
    });
    source.onerror = () => {
      if (source !== this.#source) return;
      if (source.readyState === EventSource.CLOSED) {
        // EventSource gives up on an HTTP error: reconnect ourselves, with backoff.
        this.disconnect();
        this.reconnectLater();
      } else {
        // EventSource is already reconnecting by itself, with Last-Event-ID, after the server's retry: hint.
        this.sink.state('reconnecting');
        this.sink.reconnect();
      }
    };
  }

  disconnect() {
    this.#source?.close();
    this.#source = null;
  }
}

// WebSocket: one JSON event per text frame; control messages carry "control" instead of "type".
export class WebSocketTransport extends Transport {
  #socket = null;

  // The host's publish key, when it has one: a browser cannot set headers on a WebSocket, so it goes in ?token=.
  token = '';

  connect() {
    this.sink.state('connecting');
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const query = new URLSearchParams();
    if (this.cursor) query.set('after', this.cursor);
    if (this.token) query.set('token', this.token);
    const search = query.size > 0 ? `?${query}` : '';
    const socket = this.#socket = new WebSocket(`${scheme}//${location.host}/ws${search}`);
    socket.onopen = () => {
      this.connected();
      this.sink.request();
      this.sink.state('open');
    };
    socket.onmessage = (message) => {
      const length = byteLength(message.data);
      this.sink.received(length + (length < 126 ? 2 : length < 65536 ? 4 : 10)); // server frames: header, no mask
      const parsed = JSON.parse(message.data);
      if (parsed.control === 'gap') this.signalGap(parsed);
      else if (parsed.control === 'error') this.sink.error(parsed.message);
      else if (!parsed.control) this.deliver(parsed);
    };
    socket.onclose = (closed) => {
      if (socket !== this.#socket) return;
      this.#socket = null;
      // A refusal names its rule (1008: publishing needs the host's key; 1009: message too large).
      if (closed.reason && closed.code !== 1000 && closed.code !== 1001) this.sink.error(`closed (${closed.code}): ${closed.reason}`);
      this.reconnectLater();
    };
  }

  disconnect() {
    const socket = this.#socket;
    this.#socket = null;
    // A page cannot cut TCP itself; closing without waiting for anything is the closest it has to a drop.
    socket?.close(4000, 'dropped by the page');
  }

  // The bidirectional case: publish on the same socket the events arrive on.
  publish(type, data) {
    if (this.#socket?.readyState !== WebSocket.OPEN) return false;
    this.#socket.send(JSON.stringify({ type: 'publish', event: { type, data } }));
    return true;
  }
}
