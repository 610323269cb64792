using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Tokens;

/// <summary>
/// A signed-in reader's publish carries <c>"by"</c>, the name from its token, on every transport; no body can set it;
/// and with a publish key set too, the key comes as <c>X-Publish-Key</c> beside the token.
/// </summary>
public sealed class PublishedByTests : IAsyncDisposable
{
    private const string PublishKey = "correct-horse-battery-staple";

    private readonly KestrelApplication _app = new(TestTokens.Required(("Realtime:PublishKey", PublishKey)));

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    [Fact]
    public async Task PostBySignedInReaderIsStampedWithItsNameOnEveryTransport()
    {
        var cancellationToken = TestClients.Deadline();
        using var anonymous = _app.CreateSocketClient();
        var (token, _) = await anonymous.SignInAsync("ada", cancellationToken);
        using var client = _app.SignedIn(token);
        var start = await HeadAsync(client, cancellationToken);
        var (sseResponse, sse) = await client.OpenSseAsync($"/api/sse?after={start}&access_token={token}", cancellationToken);
        using var _ = sseResponse;
        using var socket = await _app.ConnectWebSocketAsync($"/ws?after={start}&access_token={token}", cancellationToken);

        var stored = await client.PublishRawAsync(token, new { type = "chat", data = new { text = "hi" } }, cancellationToken, PublishKey);

        // After time, and the same bytes everywhere.
        Assert.Equal(["id", "seq", "type", "data", "time", "by"], stored.EnumerateObject().Select(p => p.Name));
        Assert.Equal("ada", stored.GetProperty("by").GetString());
        var json = stored.GetRawText();
        Assert.Equal(json, (await sse.ReadSseAsync(1)).Single(item => item.EventType == "message").Data);
        Assert.Equal(json, (await socket.ReceiveNextAsync(cancellationToken)).GetRawText());
        Assert.Equal(json, await FirstEventJsonAsync(client, $"/api/poll?after={start}", cancellationToken));
        Assert.Equal(json, await FirstEventJsonAsync(client, $"/api/longpoll?after={start}", cancellationToken));
    }

    [Fact]
    public async Task WebSocketPublishBySignedInReaderIsStampedWithItsName()
    {
        var cancellationToken = TestClients.Deadline();
        using var client = _app.CreateSocketClient();
        var (token, _) = await client.SignInAsync("grace", cancellationToken);
        using var socket = await _app.ConnectWebSocketAsync($"/ws?access_token={token}&token={PublishKey}", cancellationToken);

        await socket.SendJsonAsync(new { type = "publish", @event = new { type = "chat", data = new { text = "hi" } } }, cancellationToken);

        var received = await socket.ReceiveNextAsync(cancellationToken);
        Assert.Equal("grace", received.GetProperty("by").GetString());
        Assert.Equal(["id", "seq", "type", "data", "time", "by"], received.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task NoBodyCanSetBy()
    {
        var cancellationToken = TestClients.Deadline();
        using var anonymous = _app.CreateSocketClient();
        var (token, _) = await anonymous.SignInAsync("ada", cancellationToken);
        using var client = _app.SignedIn(token);
        client.DefaultRequestHeaders.Add("X-Publish-Key", PublishKey);

        using var posted = await client.PostAsJsonAsync("/api/events", new { type = "chat", data = new { }, by = "mallory" }, cancellationToken);
        await posted.AssertInvalidAsync("by", cancellationToken);

        using var socket = await _app.ConnectWebSocketAsync($"/ws?access_token={token}&token={PublishKey}", cancellationToken);
        await socket.SendJsonAsync(new { type = "publish", @event = new { type = "chat", data = new { }, by = "mallory" } }, cancellationToken);
        var error = await socket.ReceiveNextAsync(cancellationToken);
        Assert.Equal("error", error.GetProperty("control").GetString());
        Assert.Equal("event.by", error.GetProperty("field").GetString());
        await socket.SendJsonAsync(new { type = "publish", by = "mallory", @event = new { type = "chat", data = new { } } }, cancellationToken);
        Assert.Equal("by", (await socket.ReceiveNextAsync(cancellationToken)).GetProperty("field").GetString());
    }

    [Fact]
    public async Task EventsPublishedWithoutATokenHaveNoBy()
    {
        // A host without reader tokens: its events are exactly what they always were.
        await using var open = new KestrelApplication();
        var cancellationToken = TestClients.Deadline();
        using var client = open.CreateSocketClient();
        using var socket = await open.ConnectWebSocketAsync("/ws", cancellationToken);

        var stored = await client.PublishRawAsync(null, new { type = "chat", data = new { } }, cancellationToken);
        await socket.SendJsonAsync(new { type = "publish", @event = new { type = "chat", data = new { } } }, cancellationToken);

        Assert.Equal(["id", "seq", "type", "data", "time"], stored.EnumerateObject().Select(p => p.Name));
        foreach (var received in new[] { await socket.ReceiveNextAsync(cancellationToken), await socket.ReceiveNextAsync(cancellationToken) })
        {
            Assert.Equal(["id", "seq", "type", "data", "time"], received.EnumerateObject().Select(p => p.Name));
        }
    }

    [Fact]
    public async Task WithTokensThePublishKeyComesAsXPublishKeyBesideTheToken()
    {
        var cancellationToken = TestClients.Deadline();
        using var anonymous = _app.CreateSocketClient();
        var (token, _) = await anonymous.SignInAsync("ada", cancellationToken);
        using var client = _app.SignedIn(token);
        var before = await HeadAsync(client, cancellationToken);

        // The token alone reads but does not publish: the key is missing.
        using var withoutKey = await client.PostAsJsonAsync("/api/events", new { type = "chat", data = new { } }, cancellationToken);
        var problem = await withoutKey.AssertProblemAsync(401, null, cancellationToken);
        Assert.Equal("Publish key required", problem.GetProperty("title").GetString());
        Assert.Contains("X-Publish-Key", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // The key as the bearer token is a bad reader token now, not the key.
        using var keyAsBearer = new HttpRequestMessage(HttpMethod.Post, "/api/events") { Content = JsonContent.Create(new { type = "chat", data = new { } }) };
        keyAsBearer.Headers.Authorization = new("Bearer", PublishKey);
        using var refused = await anonymous.SendAsync(keyAsBearer, cancellationToken);
        Assert.Equal("Token invalid", (await refused.AssertProblemAsync(401, null, cancellationToken)).GetProperty("title").GetString());

        // The key without a token: the token is missing.
        using var keyOnly = new HttpRequestMessage(HttpMethod.Post, "/api/events") { Content = JsonContent.Create(new { type = "chat", data = new { } }) };
        keyOnly.Headers.Add("X-Publish-Key", PublishKey);
        using var noToken = await anonymous.SendAsync(keyOnly, cancellationToken);
        Assert.Equal("Token required", (await noToken.AssertProblemAsync(401, null, cancellationToken)).GetProperty("title").GetString());
        Assert.Equal(before, await HeadAsync(client, cancellationToken));

        // Both: published, and stamped.
        var stored = await client.PublishRawAsync(token, new { type = "chat", data = new { } }, cancellationToken, PublishKey);
        Assert.Equal("ada", stored.GetProperty("by").GetString());
    }

    [Fact]
    public async Task WithTokensAWebSocketPresentsTheKeyAsTokenOrXPublishKey()
    {
        var cancellationToken = TestClients.Deadline();
        using var client = _app.CreateSocketClient();
        var (token, _) = await client.SignInAsync("ada", cancellationToken);

        using var byHeader = await new ClientWebSocket().HandshakeAsync(async socket =>
        {
            socket.Options.SetRequestHeader("X-Publish-Key", PublishKey);
            await socket.ConnectAsync(_app.WebSocketUri($"/ws?access_token={token}"), cancellationToken);
        });
        Assert.Equal("welcome", (await byHeader.ReceiveNextAsync(cancellationToken)).GetProperty("control").GetString());
        await byHeader.SendJsonAsync(new { type = "publish", @event = new { type = "chat", data = new { } } }, cancellationToken);
        Assert.Equal("ada", (await byHeader.ReceiveNextAsync(cancellationToken)).GetProperty("by").GetString());

        // A wrong key is refused before the upgrade, as without tokens.
        using var wrong = TestClients.UpgradeRequest($"/ws?access_token={token}&token=not-the-publish-key-0000");
        using var response = await client.SendAsync(wrong, cancellationToken);
        Assert.Equal("Publish key required", (await response.AssertProblemAsync(401, null, cancellationToken)).GetProperty("title").GetString());
    }

    private static async Task<string> HeadAsync(HttpClient client, CancellationToken cancellationToken) =>
        (await client.GetFromJsonAsync<JsonElement>("/api/stats", cancellationToken)).GetProperty("head").GetString()!;

    private static async Task<string> FirstEventJsonAsync(HttpClient client, string path, CancellationToken cancellationToken)
    {
        using var response = await client.GetAsync(path, cancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        return body.RootElement.GetProperty("events")[0].GetRawText();
    }
}
