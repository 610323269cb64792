using System.Security.Cryptography;
using System.Text;
using Microsoft.Net.Http.Headers;

namespace RealtimeDemo.Publishing;

/// <summary>
/// The optional publish key (<see cref="PublishingOptions.PublishKey"/>): presented as <c>X-Publish-Key: …</c>, as
/// <c>Authorization: Bearer …</c> while reader tokens are off (on, that header carries the reader's token), or, on a
/// WebSocket URL, as <c>?token=…</c> (browsers cannot set headers on a WebSocket). Only publishing needs it.
/// </summary>
/// <remarks>
/// The key never reaches the logs: request logging writes the path without the query, and the framework's own
/// request lines (which include the query) are switched off (<c>Diagnostics/ObservabilityExtensions.cs</c>).
/// </remarks>
internal static class PublishKey
{
    public enum Check
    {
        /// <summary>No key is configured, or the right one was presented.</summary>
        Granted,

        /// <summary>A key is configured and none was presented.</summary>
        Missing,

        /// <summary>A key was presented and it is not the configured one.</summary>
        Wrong,
    }

    /// <summary>Whether publishing needs the key on this host.</summary>
    public static bool IsRequired(PublishingOptions options) => options.PublishKey is not null;

    public const string HeaderName = "X-Publish-Key";

    /// <param name="allowQueryToken">Whether a <c>token</c> query parameter counts (WebSocket upgrades only).</param>
    /// <param name="bearerIsReaderToken">Whether reader tokens are required: then a bearer token is one, not the key.</param>
    public static Check Verify(HttpRequest request, PublishingOptions options, bool allowQueryToken, bool bearerIsReaderToken)
    {
        if (options.PublishKey is not { } key)
        {
            return Check.Granted;
        }

        var presented = Presented(request, allowQueryToken, bearerIsReaderToken);
        if (presented is null)
        {
            return Check.Missing;
        }

        // Constant-time: how long the comparison takes must not tell how much of a guess was right.
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(key))
            ? Check.Granted
            : Check.Wrong;
    }

    private static string? Presented(HttpRequest request, bool allowQueryToken, bool bearerIsReaderToken)
    {
        if (request.Headers.TryGetValue(HeaderName, out var header))
        {
            return header.ToString().Trim();
        }

        var authorization = request.Headers.Authorization.ToString();
        const string Bearer = "Bearer ";
        if (!bearerIsReaderToken && authorization.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase))
        {
            return authorization[Bearer.Length..].Trim();
        }

        // Another scheme (Basic from a proxy in front, say) is not a publish key: as if none were presented, so a
        // reader behind such a proxy still reads.
        return allowQueryToken && request.Query.TryGetValue("token", out var token) ? token.ToString() : null;
    }

    /// <summary>The <c>401</c> for a publish without the right key, with the challenge RFC 6750 asks for.</summary>
    public static IResult Unauthorized(HttpContext context, Check check)
    {
        context.Response.Headers[HeaderNames.WWWAuthenticate] = check == Check.Wrong
            ? "Bearer error=\"invalid_token\""
            : "Bearer";
        return TypedResults.Problem(
            statusCode: StatusCodes.Status401Unauthorized,
            title: "Publish key required",
            detail: check == Check.Wrong
                ? "The publish key presented is not this host's."
                : $"This host requires its publish key to publish: send {HeaderName}: <key> (or Authorization: Bearer <key> "
                    + "where reader tokens are off).");
    }
}
