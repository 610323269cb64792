using System.Net.Sockets;
using System.Net.WebSockets;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Faults;

/// <summary>
/// Faults over real Kestrel sockets on 127.0.0.1: a client cut mid-stream resumes without loss; a publish storm from
/// many concurrent clients leaves every reader's seq contiguous.
/// </summary>
public sealed class FaultTests
{
    // The test clients all come from 127.0.0.1, one publish bucket: the rate limit must not be what these tests see.
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Realtime:PublishPermitsPerSecond"] = "1000000",
        ["Realtime:PublishBurst"] = "1000000",
    };

    [Fact]
    public async Task SseClientCutMidStreamResumesFromLastEventIdWithEveryEventOnceInOrder()
    {
        await using var app = new KestrelApplication(Settings);
        var cancellationToken = TestClients.Deadline(Deadlines.Slow);
        using var client = app.CreateSocketClient();
        var start = await client.HeadCursorAsync(cancellationToken);
        var publisher = new Publisher(client);
        using var stop = new CancellationTokenSource();

        var network = new Network();
        using var reader = new HttpClient(network.Handler) { BaseAddress = app.BaseAddress };
        var (response, stream) = await reader.OpenSseAsync($"/api/sse?after={start}", cancellationToken);
        var publishing = publisher.RunAsync(stop.Token, cancellationToken);
        var received = await ReadSseEventsAsync(stream, 30);

        network.Cut();
        await publisher.Published.WaitForCountAsync(publisher.Published.Count + 20, cancellationToken); // published while the client is away
        await DisposeQuietlyAsync(stream, response);

        var resumedNetwork = new Network();
        using var resumedReader = new HttpClient(resumedNetwork.Handler) { BaseAddress = app.BaseAddress };
        var (resumedResponse, resumed) = await resumedReader.OpenSseAsync("/api/sse", cancellationToken, lastEventId: received[^1].Id);
        using var _ = resumedResponse;
        received.AddRange(await ReadSseEventsAsync(resumed, 20));
        await stop.CancelAsync();
        await publishing;
        received.AddRange(await ReadSseEventsAsync(resumed, (int)(publisher.Published.Events[^1].Seq - received[^1].Seq)));

        AssertEveryEventOnceInOrder(publisher.Published.Events, received);
    }

    [Fact]
    public async Task WebSocketCutMidStreamResumesFromAfterWithEveryEventOnceInOrder()
    {
        await using var app = new KestrelApplication(Settings);
        var cancellationToken = TestClients.Deadline(Deadlines.Slow);
        using var client = app.CreateSocketClient();
        var start = await client.HeadCursorAsync(cancellationToken);
        var publisher = new Publisher(client);
        using var stop = new CancellationTokenSource();

        var network = new Network();
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(app.WebSocketUri($"/ws?after={start}"), new HttpMessageInvoker(network.Handler), cancellationToken);
        var publishing = publisher.RunAsync(stop.Token, cancellationToken);
        var received = await socket.ReceiveEventsWithoutGapAsync(30, cancellationToken);

        // No close frame from either side: the connection simply dies.
        network.Cut();
        await publisher.Published.WaitForCountAsync(publisher.Published.Count + 20, cancellationToken);

        using var resumed = new ClientWebSocket();
        await resumed.ConnectAsync(app.WebSocketUri($"/ws?after={received[^1].Id}"), new HttpMessageInvoker(new Network().Handler), cancellationToken);
        received.AddRange(await resumed.ReceiveEventsWithoutGapAsync(20, cancellationToken));
        await stop.CancelAsync();
        await publishing;
        received.AddRange(await resumed.ReceiveEventsWithoutGapAsync((int)(publisher.Published.Events[^1].Seq - received[^1].Seq), cancellationToken));

        AssertEveryEventOnceInOrder(publisher.Published.Events, received);
    }

    [Fact]
    public async Task LongPollCutWhileHeldOrAnsweringResumesFromItsLastCursorWithEveryEventOnceInOrder()
    {
        await using var app = new KestrelApplication(Settings);
        var cancellationToken = TestClients.Deadline(Deadlines.Load);
        using var client = app.CreateSocketClient();
        var start = await client.HeadCursorAsync(cancellationToken);
        var publisher = new Publisher(client);
        var received = new EventList();

        // First cut: a poll held with nothing to answer. The server must free it, and the events published while
        // the client is away must all be there when it asks again from its last cursor.
        var network = new Network();
        var polling = LongPollUntilCutAsync(network, app.BaseAddress, start, received, cancellationToken);
        await publisher.PublishAsync(40, cancellationToken);
        await received.WaitForCountAsync(40, cancellationToken);
        await client.WaitForOpenConnectionsAsync("long-poll", 1, cancellationToken);
        network.Cut();
        var cursor = await polling;
        await client.WaitForOpenConnectionsAsync("long-poll", 0, cancellationToken);
        await publisher.PublishAsync(30, cancellationToken);

        // Second cut: at whatever moment it comes while publishing runs on, held or with an answer in flight.
        using var stop = new CancellationTokenSource();
        var publishing = publisher.RunAsync(stop.Token, cancellationToken);
        network = new Network();
        polling = LongPollUntilCutAsync(network, app.BaseAddress, cursor, received, cancellationToken);
        await received.WaitForCountAsync(received.Count + 30, cancellationToken);
        network.Cut();
        cursor = await polling;
        await publisher.Published.WaitForCountAsync(publisher.Published.Count + 20, cancellationToken);

        network = new Network();
        polling = LongPollUntilCutAsync(network, app.BaseAddress, cursor, received, cancellationToken);
        await received.WaitForCountAsync(received.Count + 20, cancellationToken);
        await stop.CancelAsync();
        await publishing;
        var last = publisher.Published.Events[^1].Seq;
        await received.WaitUntilAsync(events => events is [.., var newest] && newest.Seq >= last, cancellationToken);
        network.Cut();
        await polling;

        AssertEveryEventOnceInOrder(publisher.Published.Events, received.Events);
    }

    [Fact]
    public async Task PublishStormFromManyClientsReachesEveryReaderOnEveryTransportOnceInOrder()
    {
        const int HttpPublishers = 16, WebSocketPublishers = 4, EventsEach = 50;
        const int Total = (HttpPublishers + WebSocketPublishers) * EventsEach;
        await using var app = new KestrelApplication(Settings);
        var cancellationToken = TestClients.Deadline(Deadlines.Load);
        using var client = app.CreateSocketClient();
        var start = await client.HeadCursorAsync(cancellationToken);
        Assert.True(EventCursor.TryParse(start, out var startCursor));

        // Every reader attaches at the same cursor before anything is published. Each publishing socket reads too.
        var (sseResponse, sse) = await client.OpenSseAsync($"/api/sse?after={start}", cancellationToken);
        using var _ = sseResponse;
        var sockets = new List<ClientWebSocket>();
        for (var i = 0; i < WebSocketPublishers + 1; i++)
        {
            var socket = new ClientWebSocket();
            sockets.Add(socket);
            await socket.ConnectAsync(app.WebSocketUri($"/ws?after={start}"), cancellationToken);
        }

        var readers = new Dictionary<string, Task<List<WireEvent>>>
        {
            // A short-poll client asks on its own interval; this one asks often, so the test is not slowed by it.
            ["short poll"] = client.PollUntilAsync("/api/poll", start, Total, cancellationToken, interval: TimeSpan.FromMilliseconds(20)),
            ["long poll"] = client.PollUntilAsync("/api/longpoll?timeout=10", start, Total, cancellationToken),
            ["sse"] = ReadSseEventsAsync(sse, Total),
        };
        foreach (var (socket, i) in sockets.Select((socket, i) => (socket, i)))
        {
            readers[$"websocket {i}"] = socket.ReceiveEventsWithoutGapAsync(Total, cancellationToken);
        }

        var publishers = Enumerable.Range(0, HttpPublishers)
            .Select(publisher => PublishOverHttpAsync(client, publisher, EventsEach, cancellationToken))
            .Concat(sockets.Skip(1).Select((socket, i) => PublishOverWebSocketAsync(socket, HttpPublishers + i, EventsEach, cancellationToken)))
            .ToList();
        await Task.WhenAll(publishers);

        var expectedSeqs = Enumerable.Range(1, Total).Select(i => startCursor.Seq + i).ToList();
        foreach (var (name, reading) in readers)
        {
            var events = await reading;
            Assert.True(expectedSeqs.SequenceEqual(events.Select(e => e.Seq)), $"{name} read seqs {string.Join(",", events.Select(e => e.Seq))}");

            // Each publisher's events, exactly once each and in the order it sent them.
            var byPublisher = events.GroupBy(e => e.Data.GetProperty("publisher").GetInt32()).ToDictionary(g => g.Key, g => g.Select(e => e.Data.GetProperty("n").GetInt32()).ToList());
            Assert.Equal(HttpPublishers + WebSocketPublishers, byPublisher.Count);
            Assert.All(byPublisher, pair => Assert.Equal(Enumerable.Range(0, EventsEach), pair.Value));
        }

        foreach (var socket in sockets)
        {
            socket.Dispose();
        }
    }

    // ---- clients ----

    private static void AssertEveryEventOnceInOrder(IReadOnlyList<WireEvent> published, IReadOnlyList<WireEvent> received)
    {
        Assert.Equal(published.Select(e => e.Id), received.Select(e => e.Id));
        Assert.Equal(Enumerable.Range(0, published.Count).Select(i => published[0].Seq + i), received.Select(e => e.Seq));
    }

    /// <summary>Reads <paramref name="count"/> SSE events; a gap signal fails the test, since nothing may be lost.</summary>
    private static async Task<List<WireEvent>> ReadSseEventsAsync(IAsyncEnumerator<System.Net.ServerSentEvents.SseItem<string>> stream, int count)
    {
        var items = await stream.ReadSseAsync(count);
        Assert.All(items, item => Assert.Equal(System.Net.ServerSentEvents.SseParser.EventTypeDefault, item.EventType));
        return items.Select(item => item.ToEvent()).ToList();
    }

    /// <summary>Long-polls from <paramref name="cursor"/> until the network is cut; returns the cursor to resume from.</summary>
    private static async Task<string> LongPollUntilCutAsync(Network network, Uri baseAddress, string cursor, EventList received, CancellationToken cancellationToken)
    {
        using var client = new HttpClient(network.Handler) { BaseAddress = baseAddress };
        try
        {
            while (true)
            {
                var body = await client.PollAsync($"/api/longpoll?after={cursor}&timeout=10", cancellationToken);
                Assert.False(body.Gap);
                received.Add(body.Events);
                cursor = body.Cursor;
            }
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
        {
            // The cut: whatever the server had answered on the dead connection never arrived, so the cursor stays.
            return cursor;
        }
    }

    private static async Task PublishOverHttpAsync(HttpClient client, int publisher, int count, CancellationToken cancellationToken)
    {
        for (var n = 0; n < count; n++)
        {
            await client.PublishAsync("storm", new { publisher, n }, cancellationToken);
        }
    }

    private static async Task PublishOverWebSocketAsync(WebSocket socket, int publisher, int count, CancellationToken cancellationToken)
    {
        for (var n = 0; n < count; n++)
        {
            await socket.SendJsonAsync(new { type = "publish", @event = new { type = "storm", data = new { publisher, n } } }, cancellationToken);
        }
    }

    private static async Task DisposeQuietlyAsync(IAsyncDisposable stream, IDisposable response)
    {
        try
        {
            await stream.DisposeAsync();
        }
        catch (Exception exception) when (exception is IOException or HttpRequestException)
        {
            // The connection under it was cut: there is nothing left to close.
        }

        response.Dispose();
    }

    /// <summary>
    /// The network between one client and the host: <see cref="Cut"/> resets every connection made through it (a TCP
    /// RST, no close of any protocol) and refuses new ones, as a dropped link would.
    /// </summary>
    private sealed class Network
    {
        private readonly Lock _lock = new();
        private readonly List<Socket> _sockets = [];
        private bool _down;

        public Network()
        {
            Handler = new SocketsHttpHandler { ConnectCallback = ConnectAsync };
        }

        public SocketsHttpHandler Handler { get; }

        public void Cut()
        {
            lock (_lock)
            {
                _down = true;
                foreach (var socket in _sockets)
                {
                    socket.LingerState = new LingerOption(true, 0);
                    socket.Close();
                }
            }
        }

        private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                lock (_lock)
                {
                    if (_down)
                    {
                        throw new SocketException((int)SocketError.NetworkDown);
                    }

                    _sockets.Add(socket);
                }

                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
    }

    /// <summary>Publishes events of type <c>fault</c>, data <c>{"n": i}</c>, one after another, and keeps what the server stored.</summary>
    private sealed class Publisher(HttpClient client)
    {
        public EventList Published { get; } = new();

        public async Task PublishAsync(int count, CancellationToken cancellationToken)
        {
            for (var i = 0; i < count; i++)
            {
                await PublishOneAsync(cancellationToken);
            }
        }

        /// <summary>Publishes until <paramref name="stop"/>; checked between publishes, so none is left half done.</summary>
        public async Task RunAsync(CancellationToken stop, CancellationToken cancellationToken)
        {
            await Task.Yield();
            while (!stop.IsCancellationRequested)
            {
                await PublishOneAsync(cancellationToken);
            }
        }

        private async Task PublishOneAsync(CancellationToken cancellationToken) =>
            Published.Add([await client.PublishAsync("fault", new { n = Published.Count }, cancellationToken)]);
    }

    /// <summary>Events one side has so far (what was published, what a reader received), with a wait for what is to come.</summary>
    private sealed class EventList
    {
        private readonly List<WireEvent> _events = [];
        private readonly SemaphoreSlim _added = new(0);

        public int Count
        {
            get
            {
                lock (_events)
                {
                    return _events.Count;
                }
            }
        }

        public IReadOnlyList<WireEvent> Events
        {
            get
            {
                lock (_events)
                {
                    return [.. _events];
                }
            }
        }

        public void Add(IEnumerable<WireEvent> events)
        {
            lock (_events)
            {
                _events.AddRange(events);
            }

            _added.Release();
        }

        public Task WaitForCountAsync(int count, CancellationToken cancellationToken) =>
            WaitUntilAsync(events => events.Count >= count, cancellationToken);

        /// <summary>Waits until <paramref name="condition"/> holds of the events so far, looking again after each addition.</summary>
        public async Task WaitUntilAsync(Func<IReadOnlyList<WireEvent>, bool> condition, CancellationToken cancellationToken)
        {
            while (!condition(Events))
            {
                await _added.WaitAsync(cancellationToken);
            }
        }
    }
}
