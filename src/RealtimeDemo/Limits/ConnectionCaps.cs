using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using RealtimeDemo.Api;
using RealtimeDemo.Diagnostics;

namespace RealtimeDemo.Limits;

/// <summary>
/// How many SSE streams, WebSockets and held long polls this host serves at once, each capped on its own
/// (<see cref="RealtimeOptions.MaxSseConnections"/> and its siblings). One more gets <c>503</c> with <c>Retry-After</c>
/// instead of memory and file handles the host does not have; a client, or the load balancer, tries again or elsewhere.
/// </summary>
/// <remarks>
/// A concurrency limiter of the platform's rate-limiting middleware holds its permit for the whole request, and a
/// stream or a WebSocket is one request, so the permit lives exactly as long as the connection.
/// </remarks>
public static class ConnectionCaps
{
    /// <summary>Long enough for a burst of reconnections to pass, short enough that a freed slot is soon reused.</summary>
    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(5);

    public static IServiceCollection AddConnectionCaps(this IServiceCollection services)
    {
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<RealtimeOptions>>((limiter, realtime) =>
        {
            var settings = realtime.Value;
            Cap(limiter, Transport.Sse, settings.MaxSseConnections);
            Cap(limiter, Transport.WebSocket, settings.MaxWebSocketConnections);
            Cap(limiter, Transport.LongPoll, settings.MaxLongPollConnections);
            limiter.RejectionStatusCode = StatusCodes.Status503ServiceUnavailable;
            limiter.OnRejected = (rejected, _) => RefuseAsync(rejected.HttpContext, settings);
        });
        return services;
    }

    /// <summary>Counts the endpoint's requests against its transport's cap.</summary>
    public static TBuilder RequireConnectionCap<TBuilder>(this TBuilder endpoint, Transport transport) where TBuilder : IEndpointConventionBuilder =>
        endpoint.RequireRateLimiting(PolicyName(transport)).WithMetadata(new CappedTransport(transport));

    private static void Cap(RateLimiterOptions limiter, Transport transport, int connections) =>
        limiter.AddConcurrencyLimiter(PolicyName(transport), cap =>
        {
            cap.PermitLimit = connections;
            cap.QueueLimit = 0;
        });

    private static string PolicyName(Transport transport) => "connections:" + TransportStats.NameOf(transport);

    private static async ValueTask RefuseAsync(HttpContext context, RealtimeOptions settings)
    {
        var transport = context.GetEndpoint()?.Metadata.GetMetadata<CappedTransport>()?.Transport;
        var limit = transport switch
        {
            Transport.Sse => $"{settings.MaxSseConnections} SSE streams",
            Transport.WebSocket => $"{settings.MaxWebSocketConnections} WebSockets",
            Transport.LongPoll => $"{settings.MaxLongPollConnections} long polls",
            _ => "connections",
        };
        await Problems.RetryLater(context, StatusCodes.Status503ServiceUnavailable, RetryAfter, "Too many connections", $"This host already holds its maximum of {limit}")
            .ExecuteAsync(context);
    }

    private sealed record CappedTransport(Transport Transport);
}
