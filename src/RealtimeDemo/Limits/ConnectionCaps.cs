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
public sealed class ConnectionCaps
{
    /// <summary>Long enough for a burst of reconnections to pass, short enough that a freed slot is soon reused.</summary>
    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(5);

    private readonly RealtimeOptions _settings;
    private readonly ConcurrencyLimiter[] _caps;

    public ConnectionCaps(IOptions<RealtimeOptions> options)
    {
        _settings = options.Value;
        _caps = new ConcurrencyLimiter[Enum.GetValues<Transport>().Length];
        _caps[(int)Transport.Sse] = Cap(_settings.MaxSseConnections);
        _caps[(int)Transport.WebSocket] = Cap(_settings.MaxWebSocketConnections);
        _caps[(int)Transport.LongPoll] = Cap(_settings.MaxLongPollConnections);
    }

    /// <summary>Refuses, or lets through holding a permit, every request to an endpoint with a cap.</summary>
    public RequestDelegate Middleware(RequestDelegate next) => context =>
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<CappedTransport>() is not { } capped)
        {
            return next(context);
        }

        var permit = _caps[(int)capped.Transport].AttemptAcquire();
        if (!permit.IsAcquired)
        {
            permit.Dispose();
            return Refusal(context, capped.Transport).ExecuteAsync(context);
        }

        context.Response.RegisterForDispose(permit);
        return next(context);
    };

    private static ConcurrencyLimiter Cap(int connections) =>
        new(new ConcurrencyLimiterOptions { PermitLimit = connections, QueueLimit = 0 });

    private IResult Refusal(HttpContext context, Transport transport)
    {
        var limit = transport switch
        {
            Transport.Sse => $"{_settings.MaxSseConnections} SSE streams",
            Transport.WebSocket => $"{_settings.MaxWebSocketConnections} WebSockets",
            _ => $"{_settings.MaxLongPollConnections} long polls",
        };
        return Problems.RetryLater(context, StatusCodes.Status503ServiceUnavailable, RetryAfter, "Too many connections", $"This host already holds its maximum of {limit}");
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
        endpoint.WithMetadata(new ConnectionCaps.CappedTransport(transport));
}
