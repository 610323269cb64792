namespace RealtimeDemo.Security;

/// <summary>Which other web origins may use the host: the <c>Realtime</c> section's <c>AllowedOrigins</c>.</summary>
public sealed class OriginOptions
{
    /// <summary>
    /// Web origins (e.g. <c>https://example.com</c>) whose pages may use this host — open a WebSocket, publish, read
    /// a stream — besides the host's own origin and loopback origins. Requests from other origins get <c>403</c>.
    /// </summary>
    public string[] AllowedOrigins { get; init; } = [];
}
