using System.ComponentModel.DataAnnotations;

namespace RealtimeDemo;

/// <summary>The <c>Realtime</c> configuration section: every limit and interval of the log and the transports.</summary>
/// <remarks>Validated at start-up: a bad value stops the host with a message naming the setting.</remarks>
public sealed class RealtimeOptions : IValidatableObject
{
    public const string SectionName = "Realtime";

    /// <summary>Where the log lives: in this host's memory, or in Redis, shared by every host that names the same one.</summary>
    public EventStore Store { get; init; } = EventStore.Memory;

    /// <summary>The shared log's name in Redis (the prefix of its keys): hosts that share a log use the same.</summary>
    [RegularExpression("^[A-Za-z0-9._-]{1,64}$", ErrorMessage = "Realtime:RedisKeyPrefix must be 1-64 letters, digits, '.', '_' or '-'.")]
    public string RedisKeyPrefix { get; init; } = "realtimedemo";

    /// <summary>How many of the newest events the log keeps for readers that resume.</summary>
    [Range(16, 10_000_000, ErrorMessage = "Realtime:Retention must be between {1} and {2} events.")]
    public int Retention { get; init; } = 10_000;

    /// <summary>The demo ticker's rate in events per second; 0 switches it off (checked in <see cref="Validate"/>).</summary>
    public double TickerEventsPerSecond { get; init; } = 1;

    /// <summary>
    /// Web origins (e.g. <c>https://example.com</c>) whose pages may use this host — open a WebSocket, publish, read
    /// a stream — besides the host's own origin and loopback origins. Requests from other origins get <c>403</c>.
    /// </summary>
    public string[] AllowedOrigins { get; init; } = [];

    /// <summary>
    /// When set, publishing (<c>POST /api/events</c>, WebSocket <c>publish</c>) requires this key as a bearer token
    /// (or, for a browser's WebSocket, a <c>token</c> query parameter). Reading stays open. Unset: anyone may publish.
    /// </summary>
    [MinLength(16, ErrorMessage = "Realtime:PublishKey must be at least {1} characters long (or left unset).")]
    public string? PublishKey { get; init; }

    /// <summary>How many events one client (by address) may publish per second, sustained; POST and WebSocket together.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Realtime:PublishPermitsPerSecond must be between {1} and {2}.")]
    public int PublishPermitsPerSecond { get; init; } = 50;

    /// <summary>How many publishes one client may make at once before the sustained rate applies.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Realtime:PublishBurst must be between {1} and {2}.")]
    public int PublishBurst { get; init; } = 100;

    /// <summary>Open SSE streams this host holds at most; more get <c>503</c> with <c>Retry-After</c>.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Realtime:MaxSseConnections must be between {1} and {2}.")]
    public int MaxSseConnections { get; init; } = 10_000;

    /// <summary>Open WebSockets this host holds at most; more get <c>503</c> with <c>Retry-After</c>.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Realtime:MaxWebSocketConnections must be between {1} and {2}.")]
    public int MaxWebSocketConnections { get; init; } = 10_000;

    /// <summary>Long polls this host holds at once at most; more get <c>503</c> with <c>Retry-After</c>.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Realtime:MaxLongPollConnections must be between {1} and {2}.")]
    public int MaxLongPollConnections { get; init; } = 10_000;

    /// <summary>
    /// How long one write to an SSE or WebSocket client may take. A client that stops reading fills its socket
    /// buffers and then blocks the write; past this time the connection is dropped (logged and counted), and the
    /// client resumes from its cursor when it reads again.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00", ErrorMessage = "Realtime:SendTimeout must be between {1} and {2}.")]
    public TimeSpan SendTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Whether clients (the page) may change the ticker's rate through <c>PUT /api/ticker</c>; on in Development.</summary>
    public bool TickerAdjustable { get; init; }

    /// <summary>The most events one read hands a transport: one poll response, one SSE or WebSocket write batch.</summary>
    [Range(1, 10_000, ErrorMessage = "Realtime:ReadBatchSize must be between {1} and {2} events.")]
    public int ReadBatchSize { get; init; } = 100;

    /// <summary>The largest <c>data</c> object a publish may carry, measured compactly encoded.</summary>
    [Range(64, 1_048_576, ErrorMessage = "Realtime:MaxEventDataBytes must be between {1} and {2} bytes.")]
    public int MaxEventDataBytes { get; init; } = 4096;

    /// <summary>The largest publish body (POST body or WebSocket message), whitespace and all.</summary>
    [Range(128, 4_194_304, ErrorMessage = "Realtime:MaxPublishBodyBytes must be between {1} and {2} bytes.")]
    public int MaxPublishBodyBytes { get; init; } = 16_384;

    /// <summary>How long a long poll is held when the client names no <c>timeout</c>.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00", ErrorMessage = "Realtime:LongPollTimeout must be between {1} and {2}.")]
    public TimeSpan LongPollTimeout { get; init; } = TimeSpan.FromSeconds(25);

    /// <summary>The cap on a client's <c>timeout</c>: keep it below the idle timeout of any proxy in front.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00", ErrorMessage = "Realtime:LongPollMaxTimeout must be between {1} and {2}.")]
    public TimeSpan LongPollMaxTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long an SSE stream may stay silent before a comment heartbeat is written (proxies cut idle connections, often at 60 s).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00", ErrorMessage = "Realtime:SseHeartbeatInterval must be between {1} and {2}.")]
    public TimeSpan SseHeartbeatInterval { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>The <c>retry:</c> hint: how long a browser's EventSource waits before reconnecting.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00", ErrorMessage = "Realtime:SseRetry must be between {1} and {2}.")]
    public TimeSpan SseRetry { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How often the server pings an idle WebSocket.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00", ErrorMessage = "Realtime:WebSocketKeepAliveInterval must be between {1} and {2}.")]
    public TimeSpan WebSocketKeepAliveInterval { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How long the server waits for the pong before it drops a WebSocket peer as dead.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00", ErrorMessage = "Realtime:WebSocketKeepAliveTimeout must be between {1} and {2}.")]
    public TimeSpan WebSocketKeepAliveTimeout { get; init; } = TimeSpan.FromSeconds(15);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (LongPollTimeout > LongPollMaxTimeout)
        {
            yield return new ValidationResult(
                $"Realtime:LongPollTimeout ({LongPollTimeout}) must not exceed Realtime:LongPollMaxTimeout ({LongPollMaxTimeout}).",
                [nameof(LongPollTimeout)]);
        }

        if (!Events.SteadyRate.IsValid(TickerEventsPerSecond))
        {
            yield return new ValidationResult(
                $"Realtime:TickerEventsPerSecond must be 0 (off) or {Events.SteadyRate.MinEventsPerSecond} to {Events.SteadyRate.MaxEventsPerSecond}.",
                [nameof(TickerEventsPerSecond)]);
        }

        if (PublishBurst < PublishPermitsPerSecond)
        {
            yield return new ValidationResult(
                $"Realtime:PublishBurst ({PublishBurst}) must be at least Realtime:PublishPermitsPerSecond ({PublishPermitsPerSecond}).",
                [nameof(PublishBurst)]);
        }

        if (MaxEventDataBytes > MaxPublishBodyBytes)
        {
            yield return new ValidationResult(
                $"Realtime:MaxEventDataBytes ({MaxEventDataBytes}) must not exceed Realtime:MaxPublishBodyBytes ({MaxPublishBodyBytes}).",
                [nameof(MaxEventDataBytes)]);
        }
    }
}

/// <summary>The value of <see cref="RealtimeOptions.Store"/>.</summary>
public enum EventStore
{
    /// <summary>The embedded ring: one host, a new epoch every start.</summary>
    Memory,

    /// <summary>A Redis stream (<c>ConnectionStrings:Redis</c>) shared by several hosts behind a load balancer.</summary>
    Redis,
}
