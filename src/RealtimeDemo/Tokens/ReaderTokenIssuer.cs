using System.Security.Claims;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace RealtimeDemo.Tokens;

/// <summary>A token as issued, and when it expires.</summary>
public readonly record struct IssuedReaderToken(string Token, DateTimeOffset ExpiresAt);

/// <summary>Issues the demo's reader tokens: HS256 JWTs for a name, valid for <see cref="ReaderTokenOptions.TokenLifetime"/>.</summary>
public sealed class ReaderTokenIssuer(IOptions<ReaderTokenOptions> options, TimeProvider time)
{
    private readonly JsonWebTokenHandler _handler = new();

    public IssuedReaderToken Issue(string name)
    {
        var settings = options.Value;

        // JWT times are whole seconds: the expiry reported is the token's own exp, to the second.
        var now = DateTimeOffset.FromUnixTimeSeconds(time.GetUtcNow().ToUnixTimeSeconds());
        var expires = DateTimeOffset.FromUnixTimeSeconds((now + settings.TokenLifetime).ToUnixTimeSeconds());
        var token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = ReaderTokenValidation.Issuer,
            Audience = ReaderTokenValidation.Issuer,
            Subject = new ClaimsIdentity([new Claim(JwtRegisteredClaimNames.Sub, name), new Claim(JwtRegisteredClaimNames.Name, name)]),
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            SigningCredentials = new SigningCredentials(settings.SigningKey(), SecurityAlgorithms.HmacSha256),
        });
        return new IssuedReaderToken(token, expires);
    }
}
