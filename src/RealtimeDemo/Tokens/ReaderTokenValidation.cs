using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Microsoft.Net.Http.Headers;
using RealtimeDemo.Log;

namespace RealtimeDemo.Tokens;

/// <summary>
/// How the bearer handler checks reader tokens: this host's issuer, audience and key, on the host's clock with no
/// leeway, and HS256 only; plus the <c>401</c> it answers and where it finds the token.
/// </summary>
/// <remarks>
/// Applied on top of what <c>Authentication:Schemes:Bearer</c> configures (an identity provider's authority,
/// issuers, audiences): issuers, audiences and keys are added to those, so such tokens are accepted beside the demo's.
/// </remarks>
internal static class ReaderTokenValidation
{
    /// <summary>The <c>iss</c> and <c>aud</c> of the tokens this host issues.</summary>
    public const string Issuer = "realtimedemo";

    public const string AccessTokenParameter = "access_token";

    public static void Configure(JwtBearerOptions bearer, ReaderTokenOptions tokens, TimeProvider time)
    {
        // Claims keep their JWT names (sub, name, exp), as ReaderToken reads them.
        bearer.MapInboundClaims = false;
        bearer.TimeProvider = time;

        var parameters = bearer.TokenValidationParameters;
        parameters.ValidIssuers = [.. parameters.ValidIssuers ?? [], Issuer];
        parameters.ValidAudiences = [.. parameters.ValidAudiences ?? [], Issuer];
        parameters.IssuerSigningKeys = [.. parameters.IssuerSigningKeys ?? [], tokens.SigningKey()];
        parameters.ValidateIssuer = true;
        parameters.ValidateAudience = true;
        parameters.RequireSignedTokens = true;
        parameters.RequireExpirationTime = true;
        parameters.NameClaimType = JwtRegisteredClaimNames.Name;
        parameters.ClockSkew = TimeSpan.Zero;
        parameters.LifetimeValidator = (notBefore, expires, _, _) => CheckLifetime(notBefore, expires, time.GetUtcNow().UtcDateTime);

        // The demo's tokens are HS256; an identity provider's metadata names its own algorithms and keys.
        if (bearer.Authority is null && bearer.MetadataAddress is null)
        {
            parameters.ValidAlgorithms = [SecurityAlgorithms.HmacSha256];
        }

        bearer.Events = new JwtBearerEvents
        {
            OnMessageReceived = TakeTokenFromQuery,
            OnChallenge = ChallengeAsync,
        };
    }

    /// <summary>Why a token was refused, in words for a client (never the token itself).</summary>
    public static (string Title, string Detail) Describe(Exception? failure) => failure switch
    {
        SecurityTokenExpiredException expired =>
            ("Token expired", $"The token expired at {StoredEvent.FormatTime(expired.Expires)}: sign in again."),
        SecurityTokenNotYetValidException early =>
            ("Token invalid", $"The token is not valid before {StoredEvent.FormatTime(early.NotBefore)}."),
        SecurityTokenNoExpirationException =>
            ("Token invalid", "The token has no expiry (exp)."),
        SecurityTokenInvalidAlgorithmException =>
            ("Token invalid", "The token's signing algorithm is not accepted here."),
        SecurityTokenInvalidSignatureException or SecurityTokenSignatureKeyNotFoundException =>
            ("Token invalid", "The token's signature is not valid for this host's key."),
        SecurityTokenInvalidIssuerException or SecurityTokenInvalidAudienceException =>
            ("Token invalid", "The token was not issued for this host (issuer or audience)."),
        SecurityTokenMalformedException or ArgumentException =>
            ("Token invalid", "The token is not a well-formed JWT."),
        _ => ("Token invalid", "The token is not valid."),
    };

    // ClockSkew has no say once a lifetime validator is set: the rule is exactly now < exp and nbf <= now.
    private static bool CheckLifetime(DateTime? notBefore, DateTime? expires, DateTime now)
    {
        if (expires is not { } expiry)
        {
            throw new SecurityTokenNoExpirationException("The token has no expiry.");
        }

        if (notBefore is { } start && start > now)
        {
            throw new SecurityTokenNotYetValidException("The token is not valid yet.") { NotBefore = start };
        }

        if (expiry <= now)
        {
            throw new SecurityTokenExpiredException("The token has expired.") { Expires = expiry };
        }

        return true;
    }

    /// <summary>SSE and WebSocket clients (browsers' EventSource and WebSocket set no headers) send the token in the query.</summary>
    private static Task TakeTokenFromQuery(MessageReceivedContext context)
    {
        if (context.HttpContext.GetEndpoint()?.Metadata.GetMetadata<ReaderTokenInQuery>() is not null
            && context.Request.Query.TryGetValue(AccessTokenParameter, out var token)
            && !string.IsNullOrEmpty(token))
        {
            context.Token = token;
        }

        return Task.CompletedTask;
    }

    /// <summary>The <c>401</c>: problem details, and the challenge RFC 6750 asks for.</summary>
    private static async Task ChallengeAsync(JwtBearerChallengeContext context)
    {
        context.HandleResponse();
        var http = context.HttpContext;
        var (title, detail) = context.AuthenticateFailure is { } failure
            ? Describe(failure)
            : ("Token required", "This host requires a reader token: send Authorization: Bearer <token> (SSE and WebSocket: "
                + $"?{AccessTokenParameter}=<token>). POST /api/token signs in.");
        http.Response.Headers[HeaderNames.WWWAuthenticate] = context.AuthenticateFailure is null ? "Bearer" : "Bearer error=\"invalid_token\"";
        await TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: title, detail: detail).ExecuteAsync(http);
    }
}

/// <summary>Endpoint metadata: the reader token may come as <c>?access_token=</c> (SSE and WebSocket).</summary>
internal sealed class ReaderTokenInQuery
{
    public static readonly ReaderTokenInQuery Instance = new();
}
