using Microsoft.Extensions.Options;
using RealtimeDemo.Http;

namespace RealtimeDemo.Security;

/// <summary>
/// Which web pages may use this host. A browser names the page's origin in <c>Origin</c> on every WebSocket upgrade
/// and cross-origin request. CORS only stops a page from <em>reading</em> an answer, and does not apply to WebSockets
/// at all: without this check any site could use its visitors' browsers to read the stream and publish as them
/// (cross-site WebSocket hijacking, cross-site request forgery). So requests from other origins are refused outright.
/// </summary>
public static class OriginCheck
{
    /// <summary>
    /// Refuses, with <c>403</c>, every request whose <c>Origin</c> is not allowed; and lets pages of the allowed
    /// other origins (loopback, <see cref="OriginOptions.AllowedOrigins"/>) read the answers, through CORS.
    /// </summary>
    public static IServiceCollection AddOriginCheck(this IServiceCollection services)
    {
        services.AddRealtimeSettings<OriginOptions>();
        services.AddCors();
        services.AddOptions<Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions>()
            .Configure<IOptions<OriginOptions>>((cors, realtime) => cors.AddDefaultPolicy(policy => policy
                .SetIsOriginAllowed(origin => IsAllowedElsewhere(origin, realtime.Value))
                .AllowAnyHeader()
                .AllowAnyMethod()));
        return services;
    }

    /// <summary>Put after the static files (the page's files are public) and before the endpoints.</summary>
    public static IApplicationBuilder UseOriginCheck(this IApplicationBuilder app)
    {
        var options = app.ApplicationServices.GetRequiredService<IOptions<OriginOptions>>();
        // Not an async lambda: an allowed request passes straight through, and holds no state machine of ours for as
        // long as it lasts (a stream lasts hours).
        app.Use(next => context => IsAllowed(context.Request, options.Value)
            ? next(context)
            : Problems.ForbiddenOrigin(context.Request.Headers.Origin.ToString()).ExecuteAsync(context));
        return app.UseCors();
    }

    /// <summary>
    /// Allowed: no <c>Origin</c> (not a browser, or a same-origin navigation), the host's own origin, or an origin
    /// allowed elsewhere.
    /// </summary>
    public static bool IsAllowed(HttpRequest request, OriginOptions options)
    {
        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0)
        {
            return true;
        }

        return Uri.TryCreate(origin, UriKind.Absolute, out var uri)
            && (string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase) || IsAllowedElsewhere(origin, options));
    }

    /// <summary>A loopback origin (a developer's machine) or one listed in <see cref="OriginOptions.AllowedOrigins"/>.</summary>
    private static bool IsAllowedElsewhere(string origin, OriginOptions options) =>
        (Uri.TryCreate(origin, UriKind.Absolute, out var uri) && uri.IsLoopback)
        || options.AllowedOrigins.Any(allowed => string.Equals(allowed.TrimEnd('/'), origin, StringComparison.OrdinalIgnoreCase));
}
