using System.Net.Http.Json;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Tokens;

/// <summary>Settings of a host that requires reader tokens, and tokens good and bad to present to it.</summary>
public static class TestTokens
{
    public const string SigningKey = "the-hosts-own-signing-key-0123456789";
    public const string OtherKey = "somebody-elses-signing-key-9876543210";

    /// <summary>The settings of a host requiring tokens, plus <paramref name="more"/>.</summary>
    public static Dictionary<string, string?> Required(params (string Key, string? Value)[] more)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Realtime:RequireReaderToken"] = "true",
            ["Realtime:TokenSigningKey"] = SigningKey,
        };
        foreach (var (key, value) in more)
        {
            settings[key] = value;
        }

        return settings;
    }

    /// <summary>Signs in as <paramref name="name"/> with <c>POST /api/token</c>: the token and its expiry.</summary>
    public static async Task<(string Token, DateTimeOffset ExpiresAt)> SignInAsync(this HttpClient client, string name, CancellationToken cancellationToken)
    {
        using var response = await client.PostAsJsonAsync("/api/token", new { name }, cancellationToken);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        return (body.RootElement.GetProperty("token").GetString()!, body.RootElement.GetProperty("expiresAt").GetDateTimeOffset());
    }

    /// <summary>
    /// A token like the host's own, but signed with another key: valid from <paramref name="issuedAt"/> (default the
    /// real clock's now; give a fake host clock's, so that only the key is wrong) for five minutes.
    /// </summary>
    public static string Forged(string name = "ada", DateTimeOffset? issuedAt = null) =>
        Sign(name, OtherKey, (issuedAt ?? DateTimeOffset.UtcNow).AddMinutes(5));

    /// <summary>A token signed with the host's key that expired <paramref name="ago"/> ago.</summary>
    public static string Expired(TimeSpan ago, string name = "ada") => Sign(name, SigningKey, DateTimeOffset.UtcNow - ago);

    /// <summary>
    /// An unsigned token, <c>"alg": "none"</c>, with claims the host would otherwise accept: valid from
    /// <paramref name="issuedAt"/> (default the real clock's now) for five minutes.
    /// </summary>
    public static string Unsigned(string name = "ada", DateTimeOffset? issuedAt = null)
    {
        var now = (issuedAt ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds();
        var expires = now + 300;
        var header = Base64UrlEncoder.Encode("""{"alg":"none","typ":"JWT"}""");
        var payload = Base64UrlEncoder.Encode(
            $$"""{"sub":"{{name}}","name":"{{name}}","iss":"realtimedemo","aud":"realtimedemo","iat":{{now}},"nbf":{{now}},"exp":{{expires}}}""");
        return $"{header}.{payload}.";
    }

    /// <summary>A valid token whose payload was changed (another name) while its signature was kept.</summary>
    public static string Tampered(string token, string name = "mallory")
    {
        var parts = token.Split('.');
        var payload = Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(parts[1]));
        using var claims = JsonDocument.Parse(payload);
        var changed = claims.RootElement.GetProperty("name").GetString()!;
        parts[1] = Base64UrlEncoder.Encode(payload.Replace($"\"{changed}\"", $"\"{name}\"", StringComparison.Ordinal));
        return string.Join('.', parts);
    }

    private static string Sign(string name, string key, DateTimeOffset expires) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Issuer = "realtimedemo",
        Audience = "realtimedemo",
        Subject = new ClaimsIdentity([new Claim("sub", name), new Claim("name", name)]),
        IssuedAt = expires.UtcDateTime.AddMinutes(-5),
        NotBefore = expires.UtcDateTime.AddMinutes(-5),
        Expires = expires.UtcDateTime,
        SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key)), SecurityAlgorithms.HmacSha256),
    });

    /// <summary>The raw JSON of one event as a POST answered it, or as a transport delivered it.</summary>
    public static async Task<JsonElement> PublishRawAsync(
        this HttpClient client, string? token, object body, CancellationToken cancellationToken, string? publishKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/events") { Content = JsonContent.Create(body) };
        if (token is not null)
        {
            request.Headers.Authorization = new("Bearer", token);
        }

        if (publishKey is not null)
        {
            request.Headers.Add("X-Publish-Key", publishKey);
        }

        using var response = await client.SendAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Created, $"Publish answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>An <see cref="HttpClient"/> of the host that sends <paramref name="token"/> as a bearer token.</summary>
    public static HttpClient SignedIn(this KestrelApplication app, string token)
    {
        var client = app.CreateSocketClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        return client;
    }
}
