using System.Diagnostics.CodeAnalysis;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;

namespace RealtimeDemo.Tokens;

/// <summary>What checking a token found: the reader's name and the token's expiry, or why it was refused.</summary>
public sealed record ReaderTokenCheck(string? Name, DateTimeOffset? ExpiresAt, string? Error)
{
    [MemberNotNullWhen(true, nameof(Name), nameof(ExpiresAt))]
    [MemberNotNullWhen(false, nameof(Error))]
    public bool IsValid => Error is null;

    public static ReaderTokenCheck Valid(string name, DateTimeOffset expiresAt) => new(name, expiresAt, null);

    public static ReaderTokenCheck Invalid(string error) => new(null, null, error);
}

/// <summary>
/// Checks a token outside the request pipeline (one a client sends on an open WebSocket), by exactly the rules the
/// bearer handler applies to requests.
/// </summary>
public sealed class ReaderTokenValidator(IOptions<ReaderTokenOptions> options, IOptionsMonitor<JwtBearerOptions> bearerOptions) : IReaderTokenCheck
{
    public async Task<ReaderTokenCheck> ValidateAsync(string token, CancellationToken cancellationToken = default)
    {
        if (!options.Value.RequireReaderToken)
        {
            return ReaderTokenCheck.Invalid("This host requires no reader tokens.");
        }

        var bearer = bearerOptions.Get(JwtBearerDefaults.AuthenticationScheme);
        var parameters = bearer.TokenValidationParameters.Clone();
        if (bearer.ConfigurationManager is { } manager)
        {
            // An identity provider's issuer and keys, as the bearer handler adds them to each request's check.
            var provider = await manager.GetConfigurationAsync(cancellationToken);
            parameters.ValidIssuers = [.. parameters.ValidIssuers ?? [], provider.Issuer];
            parameters.IssuerSigningKeys = [.. parameters.IssuerSigningKeys ?? [], .. provider.SigningKeys];
        }

        var result = await bearer.TokenHandlers[0].ValidateTokenAsync(token, parameters);
        if (!result.IsValid)
        {
            return ReaderTokenCheck.Invalid(ReaderTokenValidation.Describe(result.Exception).Detail);
        }

        var reader = new ClaimsPrincipal(result.ClaimsIdentity);
        return ReaderToken.Name(reader) is { } name && ReaderToken.ExpiresAt(reader) is { } expiresAt
            ? ReaderTokenCheck.Valid(name, expiresAt)
            : ReaderTokenCheck.Invalid("The token names no reader (name or sub).");
    }
}
