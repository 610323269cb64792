namespace RealtimeDemo.Bench.Clients;

/// <summary>What every client of a run shares: where to connect, the counted HTTP stack, and the recorder.</summary>
/// <param name="Server">The server's base address.</param>
/// <param name="Http">An HttpClient over <see cref="WireCounter"/>'s handler.</param>
/// <param name="Invoker">The same counted handler, for WebSocket handshakes.</param>
/// <param name="StartCursor">Where RealtimeDemo clients start (the head before publishing began); null for baselines.</param>
public sealed record ClientContext(Uri Server, HttpClient Http, HttpMessageInvoker Invoker, WireCounter Wire, Recorder Recorder, string? StartCursor, TimeSpan PollInterval)
{
    /// <summary>sse-h2: the HttpClient of the HTTP/2 connection client <c>index</c> multiplexes its stream on.</summary>
    public required Func<int, HttpClient> Multiplexed { get; init; }
}

/// <summary>One subscriber: connects, reports ready, then receives until cancelled; disposing closes it.</summary>
public abstract class BenchClient(ClientContext context) : IAsyncDisposable
{
    protected ClientContext Context { get; } = context;

    public ClientProgress Progress { get; } = new();

    /// <summary>Connects (subscribes) and returns once the client would receive the next published event.</summary>
    public abstract Task ConnectAsync(CancellationToken cancellationToken);

    /// <summary>Receives until cancelled; a drop ends it (and shows up as lost events).</summary>
    public abstract Task ReceiveAsync(CancellationToken cancellationToken);

    /// <summary>Closes the connection, whether or not it ever connected or received.</summary>
    public virtual ValueTask DisposeAsync() => ValueTask.CompletedTask;

    protected void Record(ReadOnlySpan<byte> eventJson) => Context.Recorder.Record(Progress, eventJson);

    /// <summary>
    /// Creates the client of a transport by its bench name, the <paramref name="index"/>th of its run. The TLS rows'
    /// clients are the cleartext ones on a context whose server is https://.
    /// </summary>
    public static BenchClient Create(string transport, ClientContext context, int index) => transport switch
    {
        "short-poll" => new PollClient(context, "/api/poll", context.PollInterval),
        "long-poll" => new PollClient(context, "/api/longpoll?timeout=25", TimeSpan.Zero),
        "sse" or "sse-tls" => new SseClient(context, context.Http, "/api/sse", withCursor: true),
        "websocket" or "websocket-tls" => new WebSocketClient(context, "/ws", withCursor: true),
        "sse-h2" => new SseClient(context, context.Multiplexed(index), "/api/sse", withCursor: true),
        "raw-sse" => new SseClient(context, context.Http, "/raw/sse", withCursor: false),
        "raw-websocket" => new WebSocketClient(context, "/raw/ws", withCursor: false),
        "signalr-websockets" => new SignalRClient(context, Microsoft.AspNetCore.Http.Connections.HttpTransportType.WebSockets),
        "signalr-sse" => new SignalRClient(context, Microsoft.AspNetCore.Http.Connections.HttpTransportType.ServerSentEvents),
        "signalr-longpolling" => new SignalRClient(context, Microsoft.AspNetCore.Http.Connections.HttpTransportType.LongPolling),
        _ => throw new ArgumentException($"Unknown transport {transport}.", nameof(transport)),
    };

    protected static string WithQuery(string path, string name, string? value) =>
        value is null ? path : $"{path}{(path.Contains('?', StringComparison.Ordinal) ? '&' : '?')}{name}={Uri.EscapeDataString(value)}";
}

/// <summary>
/// What a run sets up before its clients connect: publishing stopped, the head read (where clients start), and one
/// counted HTTP stack for all of them, plus an uncounted client for controlling the server. The TLS rows' clients
/// connect to the host's https:// address and trust its certificate alone; sse-h2's share an HTTP/2 connection per
/// group of streams, each group its own handler.
/// </summary>
public sealed class ClientRig : IDisposable
{
    private readonly WireCounter _wire = new();
    private readonly HttpMessageHandler _handler;
    private readonly List<(HttpMessageHandler Handler, HttpClient Client)> _multiplexed = [];
    private readonly BenchCertificate? _trusted;
    private readonly int _streamsPerConnection;

    private ClientRig(Target target, Uri server, HttpClient control, long head, string? cursor, TimeSpan pollInterval, int streamsPerConnection)
    {
        (_trusted, _streamsPerConnection, Control, Head) = (target.Certificate, streamsPerConnection, control, head);
        _handler = _wire.CreateHandler(_trusted);
        var http = new HttpClient(_handler, disposeHandler: false) { BaseAddress = server, Timeout = Timeout.InfiniteTimeSpan };
        var invoker = new HttpMessageInvoker(_handler, disposeHandler: false);
        Context = new ClientContext(server, http, invoker, _wire, new Recorder { FirstSeq = head + 1 }, cursor, pollInterval)
        {
            Multiplexed = Multiplexed,
        };
    }

    public ClientContext Context { get; }

    public HttpClient Control { get; }

    /// <summary>The seq of the newest event before this run published anything.</summary>
    public long Head { get; }

    public static async Task<ClientRig> PrepareAsync(
        Target target, string transport, TimeSpan pollInterval, int streamsPerConnection, CancellationToken cancellationToken)
    {
        var server = !BenchOptions.TlsTransports.Contains(transport) ? target.Address
            : target.SecureAddress ?? throw new InvalidOperationException($"{transport} runs over TLS: {target.Address} has no https:// address.");
        var control = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        try
        {
            await target.SetRateAsync(control, 0, cancellationToken);
            var (head, cursor) = await target.HeadAsync(control, cancellationToken);
            return new ClientRig(target, server, control, head, cursor, pollInterval, streamsPerConnection);
        }
        catch
        {
            control.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The HTTP/2 connection client <paramref name="index"/> opens its stream on: clients 0 to N-1 share the first, N
    /// to 2N-1 the second, and so on. A handler of its own per group, one connection each (no second one opened when
    /// the streams run out), HTTP/2 exactly.
    /// </summary>
    private HttpClient Multiplexed(int index)
    {
        lock (_multiplexed)
        {
            while (_multiplexed.Count <= index / _streamsPerConnection)
            {
                var handler = _wire.CreateHandler(_trusted);
                _multiplexed.Add((handler, new HttpClient(handler, disposeHandler: false)
                {
                    BaseAddress = Context.Server,
                    Timeout = Timeout.InfiniteTimeSpan,
                    DefaultRequestVersion = System.Net.HttpVersion.Version20,
                    DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
                }));
            }

            return _multiplexed[index / _streamsPerConnection].Client;
        }
    }

    public void Dispose()
    {
        Context.Http.Dispose();
        Context.Invoker.Dispose();
        Control.Dispose();
        _handler.Dispose();
        foreach (var (handler, client) in _multiplexed)
        {
            client.Dispose();
            handler.Dispose();
        }
    }
}
