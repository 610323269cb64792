namespace RealtimeDemo.Bench.Clients;

/// <summary>What every client of a run shares: where to connect, the counted HTTP stack, and the recorder.</summary>
/// <param name="Server">The server's base address.</param>
/// <param name="Http">An HttpClient over <see cref="WireCounter"/>'s handler.</param>
/// <param name="Invoker">The same counted handler, for WebSocket handshakes.</param>
/// <param name="StartCursor">Where RealtimeDemo clients start (the head before publishing began); null for baselines.</param>
public sealed record ClientContext(Uri Server, HttpClient Http, HttpMessageInvoker Invoker, WireCounter Wire, Recorder Recorder, string? StartCursor, TimeSpan PollInterval);

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

    /// <summary>Creates the client of a transport by its bench name.</summary>
    public static BenchClient Create(string transport, ClientContext context) => transport switch
    {
        "short-poll" => new PollClient(context, "/api/poll", context.PollInterval),
        "long-poll" => new PollClient(context, "/api/longpoll?timeout=25", TimeSpan.Zero),
        "sse" => new SseClient(context, "/api/sse", withCursor: true),
        "websocket" => new WebSocketClient(context, "/ws", withCursor: true),
        "raw-sse" => new SseClient(context, "/raw/sse", withCursor: false),
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
/// counted HTTP stack for all of them, plus an uncounted client for controlling the server.
/// </summary>
public sealed class ClientRig : IDisposable
{
    private readonly HttpMessageHandler _handler;

    private ClientRig(HttpMessageHandler handler, HttpClient control, ClientContext context, long head)
    {
        (_handler, Control, Context, Head) = (handler, control, context, head);
    }

    public ClientContext Context { get; }

    public HttpClient Control { get; }

    /// <summary>The seq of the newest event before this run published anything.</summary>
    public long Head { get; }

    public static async Task<ClientRig> PrepareAsync(Target target, TimeSpan pollInterval, CancellationToken cancellationToken)
    {
        var wire = new WireCounter();
        var handler = wire.CreateHandler();
        var control = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        await target.SetRateAsync(control, 0, cancellationToken);
        var (head, cursor) = await target.HeadAsync(control, cancellationToken);
        var http = new HttpClient(handler, disposeHandler: false) { BaseAddress = target.Address, Timeout = Timeout.InfiniteTimeSpan };
        var invoker = new HttpMessageInvoker(handler, disposeHandler: false);
        var context = new ClientContext(target.Address, http, invoker, wire, new Recorder { FirstSeq = head + 1 }, cursor, pollInterval);
        return new ClientRig(handler, control, context, head);
    }

    public void Dispose()
    {
        Context.Http.Dispose();
        Context.Invoker.Dispose();
        Control.Dispose();
        _handler.Dispose();
    }
}
