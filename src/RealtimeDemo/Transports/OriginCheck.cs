namespace RealtimeDemo.Transports;

/// <summary>
/// Which web pages may open a WebSocket here. Browsers always send <c>Origin</c> on an upgrade and CORS does not
/// apply to WebSockets, so without this check any site could use its visitors' browsers to read the stream and
/// publish as them (cross-site WebSocket hijacking).
/// </summary>
internal static class OriginCheck
{
    /// <summary>
    /// Allowed: no <c>Origin</c> (not a browser), the host's own origin, a loopback origin (a developer's machine),
    /// or one listed in <see cref="RealtimeOptions.AllowedOrigins"/>.
    /// </summary>
    public static bool IsAllowed(HttpRequest request, RealtimeOptions options)
    {
        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0)
        {
            return true;
        }

        if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri))
        {
            return false;
        }

        return string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase)
            || uri.IsLoopback
            || options.AllowedOrigins.Any(allowed => string.Equals(allowed.TrimEnd('/'), origin, StringComparison.OrdinalIgnoreCase));
    }
}
