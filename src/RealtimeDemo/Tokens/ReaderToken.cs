using System.Globalization;
using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;

namespace RealtimeDemo.Tokens;

/// <summary>What the reader token a request was authenticated with says: who, and until when.</summary>
public static class ReaderToken
{
    /// <summary>The signed-in reader's name (the token's <c>name</c>, else its <c>sub</c>); null without a token.</summary>
    public static string? Name(HttpContext context) => Name(context.User);

    /// <summary>
    /// When the request's token expires (its <c>exp</c>); null when the request carried none, which is every request
    /// while tokens are not required.
    /// </summary>
    public static DateTimeOffset? ExpiresAt(HttpContext context) => ExpiresAt(context.User);

    internal static string? Name(ClaimsPrincipal user) =>
        user.Identity is { IsAuthenticated: true } identity
            ? identity.Name ?? user.FindFirst(JwtRegisteredClaimNames.Sub)?.Value
            : null;

    internal static DateTimeOffset? ExpiresAt(ClaimsPrincipal user) =>
        user.Identity is { IsAuthenticated: true }
        && long.TryParse(user.FindFirst(JwtRegisteredClaimNames.Exp)?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : null;
}
