using System.ComponentModel.DataAnnotations;

namespace RealtimeDemo.Limits;

/// <summary>How many long-lived connections each transport may hold, and how long a write may block: the <c>Realtime</c> section.</summary>
public sealed class ConnectionLimitsOptions
{
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
}
