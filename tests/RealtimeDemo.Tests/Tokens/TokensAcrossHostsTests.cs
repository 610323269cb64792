using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Tokens;

/// <summary>
/// Any host accepts any host's token when they share the signing key: two hosts on one Redis log, and a host behind
/// the project's nginx configuration.
/// </summary>
public sealed class TokensAcrossHostsTests(RedisServer redis) : IClassFixture<RedisServer>, IAsyncDisposable
{
    private static readonly string ProjectConfig = Path.Combine(AppContext.BaseDirectory, "nginx", "realtimedemo.conf");

    private readonly List<IAsyncDisposable> _owned = [];

    public async ValueTask DisposeAsync()
    {
        foreach (var owned in Enumerable.Reverse(_owned))
        {
            await owned.DisposeAsync();
        }
    }

    [Fact]
    public async Task TwoHostsOnRedisWithTheSameKeyAcceptEachOthersTokens()
    {
        redis.RequireRedis();
        var cancellationToken = TestClients.Deadline(Deadlines.Load);
        var settings = TestTokens.Required(
            ("Realtime:Store", "Redis"), ("Realtime:RedisKeyPrefix", RedisServer.NewKeyPrefix()), ("ConnectionStrings:Redis", redis.ConnectionString));
        var a = Own(new KestrelApplication(settings));
        var b = Own(new KestrelApplication(settings));
        using var anonymousA = a.CreateSocketClient();
        var (token, _) = await anonymousA.SignInAsync("ada", cancellationToken);
        using var onB = b.SignedIn(token);
        var start = (await onB.PollAsync("/api/poll", cancellationToken)).Cursor;
        var (sseResponse, sse) = await onB.OpenSseAsync($"/api/sse?after={start}&access_token={token}", cancellationToken);
        using var _ = sseResponse;
        using var socket = await b.ConnectWebSocketAsync($"/ws?after={start}&access_token={token}", cancellationToken);

        // Published on A with A's token, stored in Redis with its "by", read on B with the same token.
        using var onA = a.SignedIn(token);
        var stored = await onA.PublishRawAsync(token, new { type = "chat", data = new { text = "across" } }, cancellationToken);

        Assert.Equal("ada", stored.GetProperty("by").GetString());
        Assert.Equal(stored.GetRawText(), (await sse.ReadSseAsync(1)).Single(item => item.EventType == "message").Data);
        Assert.Equal(stored.GetRawText(), (await socket.ReceiveNextAsync(cancellationToken)).GetRawText());
        using var polled = JsonDocument.Parse(await onB.GetStringAsync($"/api/longpoll?after={start}", cancellationToken));
        Assert.Equal(stored.GetRawText(), polled.RootElement.GetProperty("events")[0].GetRawText());

        // A host with another key refuses it.
        var other = Own(new KestrelApplication(TestTokens.Required(("Realtime:TokenSigningKey", TestTokens.OtherKey))));
        using var onOther = other.SignedIn(token);
        using var refused = await onOther.GetAsync("/api/poll", cancellationToken);
        await refused.AssertProblemAsync(401, null, cancellationToken);
    }

    [Fact]
    public async Task BehindNginxTokensWorkOnEveryTransportAndRefusalsPassThrough()
    {
        var cancellationToken = TestClients.Deadline(Deadlines.Load);
        var app = Own(new KestrelApplication(TestTokens.Required()));
        var proxy = Own(await NginxProxy.StartAsync(app.BaseAddress, ProjectConfig, TimeSpan.FromSeconds(30), cancellationToken));
        using var client = new HttpClient { BaseAddress = proxy.Address };
        using var signIn = await client.PostAsJsonAsync("/api/token", new { name = "ada" }, cancellationToken);
        var token = (await signIn.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("token").GetString()!;

        using var missing = await client.GetAsync("/api/poll", cancellationToken);
        await missing.AssertProblemAsync(401, null, cancellationToken);
        Assert.Equal("Bearer", missing.Headers.WwwAuthenticate.ToString());
        using var forgedUpgrade = TestClients.UpgradeRequest($"/ws?access_token={TestTokens.Forged()}");
        using var forged = await client.SendAsync(forgedUpgrade, cancellationToken);
        await forged.AssertProblemAsync(401, null, cancellationToken);
        Assert.Equal("Bearer error=\"invalid_token\"", forged.Headers.WwwAuthenticate.ToString());

        client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        var start = (await client.PollAsync("/api/poll", cancellationToken)).Cursor;
        var (sseResponse, sse) = await client.OpenSseAsync($"/api/sse?after={start}&access_token={token}", cancellationToken);
        using var _ = sseResponse;
        Assert.Equal(HttpStatusCode.OK, sseResponse.StatusCode);
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(proxy.WebSocketUri($"/ws?after={start}&access_token={token}"), cancellationToken);

        var stored = await client.PublishRawAsync(token, new { type = "chat", data = new { } }, cancellationToken);

        Assert.Equal("ada", stored.GetProperty("by").GetString());
        Assert.Equal(stored.GetRawText(), (await sse.ReadSseAsync(1)).Single(item => item.EventType == "message").Data);
        Assert.Equal(stored.GetProperty("id").GetString(), Assert.Single(await socket.ReceiveEventsAsync(1, cancellationToken)).Id);
        Assert.Equal(stored.GetProperty("id").GetString(), Assert.Single((await client.PollAsync($"/api/longpoll?after={start}", cancellationToken)).Events).Id);
    }

    private T Own<T>(T owned) where T : IAsyncDisposable
    {
        _owned.Add(owned);
        return owned;
    }
}
