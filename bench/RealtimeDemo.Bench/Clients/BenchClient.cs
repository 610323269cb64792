namespace RealtimeDemo.Bench.Clients;

/// <summary>What every client of a run shares: where to connect, the counted HTTP stack, and the recorder.</summary>
/// <param name="Server">The server's base address.</param>
/// <param name="Http">An HttpClient over <see cref="WireCounter"/>'s handler.</param>
/// <param name="Invoker">The same counted handler, for WebSocket handshakes.</param>
/// <param name="StartCursor">Where RealtimeDemo clients start (the head before publishing began); null for baselines.</param>
public sealed record ClientContext(Uri Server, HttpClient Http, HttpMessageInvoker Invoker, WireCounter Wire, Recorder Recorder, string? StartCursor, TimeSpan PollInterval);

/// <summary>One subscriber: connects, reports ready, then receives until cancelled.</summary>
public abstract class BenchClient(ClientContext context)
{
    protected ClientContext Context { get; } = context;

    public ClientProgress Progress { get; } = new();

    /// <summary>Connects (subscribes) and returns once the client would receive the next published event.</summary>
    public abstract Task ConnectAsync(CancellationToken cancellationToken);

    /// <summary>Receives until cancelled; a drop ends it (and shows up as lost events).</summary>
    public abstract Task ReceiveAsync(CancellationToken cancellationToken);

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
