using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using RealtimeDemo.Http;

namespace RealtimeDemo.Limits;

/// <summary>
/// How many SSE streams, WebSockets and held long polls this host serves at once, each capped on its own
/// (<see cref="ConnectionLimitsOptions.MaxSseConnections"/> and its siblings). One more gets <c>503</c> with <c>Retry-After</c>
/// instead of memory and file handles the host does not have; a client, or the load balancer, tries again or elsewhere.
/// </summary>
/// <remarks>
/// Each cap is a platform <see cref="ConcurrencyLimiter"/>, and its permit is held for the whole request: a stream or a
/// WebSocket is one request, so the permit lives exactly as long as the connection. The middleware takes the permit and
/// passes the request on without awaiting it (the response releases the permit when it completes), so a connection
/// that lasts hours holds a permit and nothing else of ours: the rate-limiting middleware would hold its own state
/// machine per connection, a few hundred bytes on every idle stream.
/// </remarks>
public sealed class ConnectionCaps : IDisposable
{
    /// <summary>Long enough for a burst of reconnections to pass, short enough that a freed slot is soon reused.</summary>
    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(5);

    // By transport; null for a transport that holds no connection open (short polling).
    private readonly Cap?[] _caps;

    public ConnectionCaps(IOptions<ConnectionLimitsOptions> options)
    {
        var settings = options.Value;
        _caps = Enum.GetValues<Transport>()
            .Select(transport => CapOf(transport) is { } cap
                ? new Cap(
                    new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = cap.Limit(settings), QueueLimit = 0 }),
                    $"This host already holds its maximum of {cap.Limit(settings)} {cap.Connections}")
                : null)
            .ToArray();
    }

    /// <summary>Refuses, or lets through holding a permit, every request to an endpoint with a cap.</summary>
    public RequestDelegate Middleware(RequestDelegate next) => context =>
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<CappedTransport>() is not { } capped)
        {
            return next(context);
        }

        var cap = _caps[(int)capped.Transport]!;
        var permit = cap.Limiter.AttemptAcquire();
        if (!permit.IsAcquired)
        {
            permit.Dispose();
            return Problems.RetryLater(context, StatusCodes.Status503ServiceUnavailable, RetryAfter, "Too many connections", cap.Refusal)
                .ExecuteAsync(context);
        }

        context.Response.RegisterForDispose(permit);
        return next(context);
    };

    /// <summary>Whether <paramref name="transport"/> holds connections open, and so has a cap.</summary>
    public static bool IsCapped(Transport transport) => CapOf(transport) is not null;

    public void Dispose()
    {
        foreach (var cap in _caps)
        {
            cap?.Limiter.Dispose();
        }
    }

    /// <summary>A long-lived transport's cap, and what it counts; null for a transport that holds nothing open.</summary>
    private static (Func<ConnectionLimitsOptions, int> Limit, string Connections)? CapOf(Transport transport) => transport switch
    {
        Transport.Sse => (static settings => settings.MaxSseConnections, "SSE streams"),
        Transport.WebSocket => (static settings => settings.MaxWebSocketConnections, "WebSockets"),
        Transport.LongPoll => (static settings => settings.MaxLongPollConnections, "long polls"),
        _ => null,
    };

    internal sealed record CappedTransport(Transport Transport);

    /// <summary>One transport's limiter, and the detail of the 503 that refuses a connection over it.</summary>
    private sealed record Cap(ConcurrencyLimiter Limiter, string Refusal);
}

public static class ConnectionCapsExtensions
{
    public static IServiceCollection AddConnectionCaps(this IServiceCollection services) => services.AddSingleton<ConnectionCaps>();

    /// <summary>Put after routing (it reads the endpoint) and before the endpoints.</summary>
    public static IApplicationBuilder UseConnectionCaps(this IApplicationBuilder app) =>
        app.Use(app.ApplicationServices.GetRequiredService<ConnectionCaps>().Middleware);

    /// <summary>Counts the endpoint's requests against its transport's cap.</summary>
    public static TBuilder RequireConnectionCap<TBuilder>(this TBuilder endpoint, Transport transport) where TBuilder : IEndpointConventionBuilder =>
        ConnectionCaps.IsCapped(transport)
            ? endpoint.WithMetadata(new ConnectionCaps.CappedTransport(transport))
            : throw new ArgumentOutOfRangeException(nameof(transport), transport, "Only long-lived transports have a cap.");
}
