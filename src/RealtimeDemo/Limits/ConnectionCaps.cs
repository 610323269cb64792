using System.Threading.RateLimiting;
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

    /// <summary>The transports that hold a connection open, and so have a cap.</summary>
    public static readonly Transport[] Capped = [Transport.Sse, Transport.WebSocket, Transport.LongPoll];

    private readonly RealtimeOptions _settings;
    private readonly Dictionary<Transport, ConcurrencyLimiter> _caps;

    public ConnectionCaps(IOptions<RealtimeOptions> options)
    {
        _settings = options.Value;
        _caps = Capped.ToDictionary(transport => transport, transport => new ConcurrencyLimiter(
            new ConcurrencyLimiterOptions { PermitLimit = Limit(transport), QueueLimit = 0 }));
    }

    /// <summary>Refuses, or lets through holding a permit, every request to an endpoint with a cap.</summary>
    public RequestDelegate Middleware(RequestDelegate next) => context =>
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<CappedTransport>() is not { } capped)
        {
            return next(context);
        }

        var permit = _caps[capped.Transport].AttemptAcquire();
        if (!permit.IsAcquired)
        {
            permit.Dispose();
            return Refusal(context, capped.Transport).ExecuteAsync(context);
        }

        context.Response.RegisterForDispose(permit);
        return next(context);
    };

    public void Dispose()
    {
        foreach (var cap in _caps.Values)
        {
            cap.Dispose();
        }
    }

    private int Limit(Transport transport) => transport switch
    {
        Transport.Sse => _settings.MaxSseConnections,
        Transport.WebSocket => _settings.MaxWebSocketConnections,
        Transport.LongPoll => _settings.MaxLongPollConnections,
        _ => throw new ArgumentOutOfRangeException(nameof(transport), transport, "Only long-lived transports have a cap."),
    };

    private IResult Refusal(HttpContext context, Transport transport)
    {
        var what = transport switch
        {
            Transport.Sse => "SSE streams",
            Transport.WebSocket => "WebSockets",
            _ => "long polls",
        };
        return Problems.RetryLater(context, StatusCodes.Status503ServiceUnavailable, RetryAfter, "Too many connections", $"This host already holds its maximum of {Limit(transport)} {what}");
    }

    internal sealed record CappedTransport(Transport Transport);
}

public static class ConnectionCapsExtensions
{
    public static IServiceCollection AddConnectionCaps(this IServiceCollection services) => services.AddSingleton<ConnectionCaps>();

    /// <summary>Put after routing (it reads the endpoint) and before the endpoints.</summary>
    public static IApplicationBuilder UseConnectionCaps(this IApplicationBuilder app) =>
        app.Use(app.ApplicationServices.GetRequiredService<ConnectionCaps>().Middleware);

    /// <summary>Counts the endpoint's requests against its transport's cap.</summary>
    public static TBuilder RequireConnectionCap<TBuilder>(this TBuilder endpoint, Transport transport) where TBuilder : IEndpointConventionBuilder =>
        ConnectionCaps.Capped.Contains(transport)
            ? endpoint.WithMetadata(new ConnectionCaps.CappedTransport(transport))
            : throw new ArgumentOutOfRangeException(nameof(transport), transport, "Only long-lived transports have a cap.");
}
