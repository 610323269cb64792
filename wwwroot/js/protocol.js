// Which HTTP version carries each panel, as far as a page can see it. Resource Timing reports a request's protocol
// (nextHopProtocol: "h2", "http/1.1") once the request completes, so polls are measured; an SSE stream is reported
// only when it ends, and a WebSocket never is: for those the page says what it infers, and from what.

const panelOfPath = { '/api/poll': 'short-poll', '/api/longpoll': 'long-poll', '/api/sse': 'sse' };

export class ProtocolWatch {
  // The protocol of the latest completed request of each panel, by panel name.
  measured = {};

  constructor(onChange) {
    this.onChange = onChange;
    // The page's own request: where the browser reports it, the connection every same-origin request starts from.
    this.page = performance.getEntriesByType('navigation')[0]?.nextHopProtocol || '';
    // Over http: a browser never speaks HTTP/2 (it does so only over TLS).
    this.plainHttp = location.protocol === 'http:';
    new PerformanceObserver((list) => this.#take(list.getEntries())).observe({ type: 'resource', buffered: true });
    // Observers see every entry; the buffer only serves late readers, so it is emptied instead of filling up.
    performance.addEventListener('resourcetimingbufferfull', () => performance.clearResourceTimings());
  }

  /** The protocol this page's HTTP requests use: measured where any was, else the page's own, else what http: allows. */
  get current() {
    return this.measured['short-poll'] || this.measured['long-poll'] || this.page || (this.plainHttp ? 'http/1.1' : '');
  }

  get multiplexed() { return this.current === 'h2' || this.current === 'h3'; }

  /** What a panel shows: the protocol, and whether it was measured or inferred (and from what). */
  describe(name) {
    const measured = this.measured[name];
    const current = this.current || 'unknown';
    switch (name) {
      case 'short-poll':
      case 'long-poll':
        return measured
          ? { protocol: measured, source: 'measured', detail: 'measured: Resource Timing of its last request' }
          : { protocol: current, source: 'inferred', detail: "inferred from the page's own request until a poll completes" };
      case 'sse':
        if (this.multiplexed) return { protocol: current, source: 'inferred', detail: 'inferred: the connection the polls share; a stream is timed only once it ends' };
        return measured
          ? { protocol: measured, source: 'measured', detail: 'measured on the last stream that ended' }
          : { protocol: current, source: 'inferred', detail: 'inferred: a connection of its own; a stream is timed only once it ends' };
      default:
        return this.plainHttp
          ? { protocol: 'http/1.1', source: 'inferred', detail: 'inferred: an Upgrade, the only kind over http:' }
          : { protocol: 'h2 or http/1.1', source: 'unknown', detail: 'not exposed to pages: an HTTP/2 stream (RFC 8441) or an Upgrade' };
    }
  }

  #take(entries) {
    let changed = false;
    for (const entry of entries) {
      const name = panelOfPath[new URL(entry.name).pathname];
      // Empty for cached answers and for what the browser does not expose.
      if (!name || !entry.nextHopProtocol || this.measured[name] === entry.nextHopProtocol) continue;
      this.measured[name] = entry.nextHopProtocol;
      changed = true;
    }
    if (changed) this.onChange();
  }
}
