using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Tokens;

/// <summary><c>POST /api/token</c>, the demo sign-in, and the settings behind it.</summary>
public sealed class TokenEndpointTests
{
    [Fact]
    public async Task SignInAnswersAJwtForTheNameThatExpiresAfterTheLifetime()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 23, 18, 0, 0, 400, TimeSpan.Zero));
        await using var app = new RealtimeDemoApplication(
            TestTokens.Required(("Realtime:TokenLifetime", "00:00:30")), services => services.AddSingleton<TimeProvider>(time));
        var cancellationToken = TestClients.Deadline();
        using var client = app.CreateClient();

        using var response = await client.PostAsJsonAsync("/api/token", new { name = "Ada L. ov_el-ace" }, cancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        Assert.Equal(["token", "expiresAt"], body.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal("2026-11-23T18:00:30.000Z", body.RootElement.GetProperty("expiresAt").GetString());
        var token = body.RootElement.GetProperty("token").GetString()!;
        var parts = token.Split('.');
        Assert.Equal(3, parts.Length);
        using var header = JsonDocument.Parse(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Decode(parts[0]));
        Assert.Equal("HS256", header.RootElement.GetProperty("alg").GetString());
        using var claims = JsonDocument.Parse(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Decode(parts[1]));
        var payload = claims.RootElement;
        Assert.Equal("Ada L. ov_el-ace", payload.GetProperty("sub").GetString());
        Assert.Equal("Ada L. ov_el-ace", payload.GetProperty("name").GetString());
        Assert.Equal("realtimedemo", payload.GetProperty("iss").GetString());
        Assert.Equal("realtimedemo", payload.GetProperty("aud").GetString());
        var issuedAt = time.GetUtcNow().ToUnixTimeSeconds();
        Assert.Equal(issuedAt, payload.GetProperty("iat").GetInt64());
        Assert.Equal(issuedAt, payload.GetProperty("nbf").GetInt64());
        Assert.Equal(issuedAt + 30, payload.GetProperty("exp").GetInt64());

        // The validator other code uses (a WebSocket refresh) reads the same name and expiry.
        var check = await app.Services.GetRequiredService<ReaderTokenValidator>().ValidateAsync(token, cancellationToken);
        Assert.True(check.IsValid, check.Error);
        Assert.Equal("Ada L. ov_el-ace", check.Name);
        Assert.Equal(DateTimeOffset.Parse("2026-11-23T18:00:30Z", System.Globalization.CultureInfo.InvariantCulture), check.ExpiresAt);

        time.Advance(TimeSpan.FromSeconds(30));
        var expired = await app.Services.GetRequiredService<ReaderTokenValidator>().ValidateAsync(token, cancellationToken);
        Assert.False(expired.IsValid);
        Assert.Contains("expired", expired.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"name":""}""", "name")]
    [InlineData("""{"name":" ada"}""", "name")]
    [InlineData("""{"name":"ada "}""", "name")]
    [InlineData("""{"name":"ada!"}""", "name")]
    [InlineData("""{"name":"ädä"}""", "name")]
    [InlineData("""{"name":"\uD800"}""", "name")]
    [InlineData("""{"name":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}""", "name")] // 65
    [InlineData("""{"name":42}""", "name")]
    [InlineData("""{}""", "name")]
    [InlineData("""{"name":"ada","password":"x"}""", "password")]
    [InlineData("""["ada"]""", "body")]
    [InlineData("""{"name":""", "body")]
    public async Task BadSignInAnswers400NamingTheField(string body, string field)
    {
        await using var app = new RealtimeDemoApplication(TestTokens.Required());
        var cancellationToken = TestClients.Deadline();
        using var client = app.CreateClient();

        using var response = await client.PostAsync("/api/token", new StringContent(body, Encoding.UTF8, "application/json"), cancellationToken);

        await response.AssertInvalidAsync(field, cancellationToken);
    }

    [Fact]
    public async Task NameOfSixtyFourCharactersIsAccepted()
    {
        await using var app = new RealtimeDemoApplication(TestTokens.Required());
        using var client = app.CreateClient();

        var (token, _) = await client.SignInAsync(new string('a', 64), TestClients.Deadline());

        Assert.NotEmpty(token);
    }

    [Fact]
    public async Task HostWithoutTokensAnswers404()
    {
        await using var app = new RealtimeDemoApplication();
        var cancellationToken = TestClients.Deadline();
        using var client = app.CreateClient();

        using var response = await client.PostAsJsonAsync("/api/token", new { name = "ada" }, cancellationToken);

        var problem = await response.AssertProblemAsync(404, null, cancellationToken);
        Assert.Contains("issues no tokens", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var check = await app.Services.GetRequiredService<ReaderTokenValidator>().ValidateAsync(TestTokens.Forged(), cancellationToken);
        Assert.False(check.IsValid);
    }

    [Theory]
    [InlineData("Realtime:TokenSigningKey", "too-short-for-hs256")]
    [InlineData("Realtime:TokenLifetime", "00:00:04")]
    [InlineData("Realtime:TokenLifetime", "1.00:00:01")]
    public void BadTokenSettingIsRefusedNamingIt(string setting, string value)
    {
        using var services = Compose(TestTokens.Required((setting, value)));

        var failure = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains(setting, failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RequiringTokensWithoutASigningKeyIsRefusedNamingBoth()
    {
        using var services = Compose(new Dictionary<string, string?> { ["Realtime:RequireReaderToken"] = "true" });

        var failure = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("Realtime:TokenSigningKey", failure.Message, StringComparison.Ordinal);
        Assert.Contains("Realtime:RequireReaderToken", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TokenSettingsDefaultToOffWithFiveMinuteTokens()
    {
        using var services = Compose([]);

        services.GetRequiredService<IStartupValidator>().Validate();
        var options = services.GetRequiredService<IOptions<ReaderTokenOptions>>().Value;
        Assert.False(options.RequireReaderToken);
        Assert.Null(options.TokenSigningKey);
        Assert.Equal(TimeSpan.FromMinutes(5), options.TokenLifetime);
    }

    private static ServiceProvider Compose(IEnumerable<KeyValuePair<string, string?>> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddLogging()
            .AddReaderTokens(configuration)
            .BuildServiceProvider();
    }
}
