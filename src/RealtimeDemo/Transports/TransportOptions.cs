using System.ComponentModel.DataAnnotations;

namespace RealtimeDemo.Transports;

/// <summary>How the four transports read the log and keep their connections alive: settings in the <c>Realtime</c> section.</summary>
public sealed class TransportOptions : IValidatableObject
{
    /// <summary>The most events one read hands a transport: one poll response, one SSE or WebSocket write batch.</summary>
    [Range(1, 10_000, ErrorMessage = "Realtime:ReadBatchSize must be between {1} and {2} events.")]
    public int ReadBatchSize { get; init; } = 100;

    /// <summary>How long a long poll is held when the client names no <c>timeout</c>.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00", ErrorMessage = "Realtime:LongPollTimeout must be between {1} and {2}.")]
    public TimeSpan LongPollTimeout { get; init; } = TimeSpan.FromSeconds(25);

    /// <summary>The cap on a client's <c>timeout</c>: keep it below the idle timeout of any proxy in front.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00", ErrorMessage = "Realtime:LongPollMaxTimeout must be between {1} and {2}.")]
    public TimeSpan LongPollMaxTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long an SSE stream or WebSocket may stay silent before a heartbeat is sent: proxies cut idle connections
    /// (often at 60 s), and clients judge a stream dead by its silence.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00", ErrorMessage = "Realtime:HeartbeatInterval must be between {1} and {2}.")]
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(15);

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
    }
}
