using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Publishing;

/// <summary>With <c>Realtime:PublishKey</c> set, publishing needs the key; reading does not; the key is never logged.</summary>
public sealed class PublishKeyTests : IAsyncDisposable
{
    private const string Key = "correct-horse-battery-staple";
    private const string WrongKey = "incorrect-donkey-key-0123";

    private readonly LogCapture _logs = new();
    private readonly KestrelApplication _app;

    public PublishKeyTests() =>
        _app = new KestrelApplication(
            new Dictionary<string, string?>
            {
                ["Realtime:PublishKey"] = Key,
                // What the host logs by default, so the assertion about the logs is about what ships.
                ["Serilog:MinimumLevel:Default"] = "Information",
            },
            services: _logs.Register);

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    [Theory]
    [InlineData(null, "Bearer")]
    [InlineData("Bearer " + WrongKey, "Bearer error=\"invalid_token\"")]
    [InlineData("Basic " + Key, "Bearer")]
    public async Task PublishWithoutTheKeyAnswers401WithABearerChallenge(string? authorization, string challenge)
    {
        var cancellationToken = TestClients.Deadline();
        using var client = _app.CreateSocketClient();
        var before = await client.HeadCursorAsync(cancellationToken);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/events") { Content = JsonContent.Create(new { type = "chat", data = new { } }) };
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        using var response = await client.SendAsync(request, cancellationToken);

        await response.AssertProblemAsync(401, null, cancellationToken);
        Assert.Equal(challenge, response.Headers.WwwAuthenticate.ToString());
        Assert.Equal(before, await client.HeadCursorAsync(cancellationToken));
    }

    [Fact]
    public async Task PublishWithTheKeyOnlyInTheQueryAnswers401()
    {
        var cancellationToken = TestClients.Deadline();
        using var client = _app.CreateSocketClient();
        var before = await client.HeadCursorAsync(cancellationToken);

        // ?token= is for WebSocket upgrades only (a browser cannot set their headers); a POST must use the header.
        using var response = await client.PostAsJsonAsync($"/api/events?token={Key}", new { type = "chat", data = new { } }, cancellationToken);

        await response.AssertProblemAsync(401, null, cancellationToken);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
        Assert.Equal(before, await client.HeadCursorAsync(cancellationToken));
    }

    [Fact]
    public async Task PublishWithTheKeyAsBearerTokenIsAccepted()
    {
        var cancellationToken = TestClients.Deadline();
        using var client = _app.CreateSocketClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);

        var published = await client.PublishAsync("chat", new { text = "hello" }, cancellationToken);

        Assert.Equal(1, published.Seq);
    }

    [Fact]
    public async Task ReadingNeedsNoKeyOnAnyTransport()
    {
        var cancellationToken = TestClients.Deadline();
        using var publisher = _app.CreateSocketClient();
        publisher.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        using var reader = _app.CreateSocketClient();
        var start = await reader.HeadCursorAsync(cancellationToken);
        var (response, sse) = await reader.OpenSseAsync($"/api/sse?after={start}", cancellationToken);
        using var _ = response;
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(_app.WebSocketUri($"/ws?after={start}"), cancellationToken);

        var published = await publisher.PublishAsync("chat", new { text = "for everyone" }, cancellationToken);

        Assert.Equal(published.Id, Assert.Single((await reader.PollAsync($"/api/poll?after={start}", cancellationToken)).Events).Id);
        Assert.Equal(published.Id, Assert.Single((await reader.PollAsync($"/api/longpoll?after={start}", cancellationToken)).Events).Id);
        Assert.Equal(published.Id, (await sse.ReadSseAsync(1)).Single(item => item.EventType == "message").EventId);
        Assert.Equal(published.Id, Assert.Single(await socket.ReceiveEventsAsync(1, cancellationToken)).Id);
    }

    [Fact]
    public async Task AnotherAuthorizationSchemeIsNoKeyAndAWebSocketStillReads()
    {
        // Basic credentials a proxy in front may add are not a wrong publish key.
        var cancellationToken = TestClients.Deadline();
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Basic dXNlcjpwYXNz");
        using var publisher = _app.CreateSocketClient();
        publisher.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);

        await socket.ConnectAsync(_app.WebSocketUri("/ws"), cancellationToken);
        Assert.Equal("welcome", (await socket.ReceiveJsonAsync(cancellationToken))?.GetProperty("control").GetString());
        var published = await publisher.PublishAsync("chat", new { text = "read without a key" }, cancellationToken);

        Assert.Equal(published.Id, Assert.Single(await socket.ReceiveEventsAsync(1, cancellationToken)).Id);
    }

    [Fact]
    public async Task WebSocketPublishWithoutTheKeyClosesWith1008()
    {
        var cancellationToken = TestClients.Deadline();
        using var client = _app.CreateSocketClient();
        var before = await client.HeadCursorAsync(cancellationToken);
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(_app.WebSocketUri("/ws"), cancellationToken);

        await socket.SendJsonAsync(new { type = "publish", @event = new { type = "chat", data = new { } } }, cancellationToken);

        // The welcome comes first; then the close.
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, await socket.ReceiveUntilCloseAsync(cancellationToken));
        Assert.Contains("publish key", socket.CloseStatusDescription, StringComparison.Ordinal);
        Assert.Equal(before, await client.HeadCursorAsync(cancellationToken));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task WebSocketWithTheKeyPublishes(bool asQueryToken)
    {
        var cancellationToken = TestClients.Deadline();
        using var socket = new ClientWebSocket();
        if (!asQueryToken)
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + Key);
        }

        await socket.ConnectAsync(_app.WebSocketUri(asQueryToken ? $"/ws?token={Key}" : "/ws"), cancellationToken);

        await socket.SendJsonAsync(new { type = "publish", @event = new { type = "chat", data = new { text = "mine" } } }, cancellationToken);

        Assert.Equal("chat", Assert.Single(await socket.ReceiveEventsAsync(1, cancellationToken)).Type);
    }

    [Fact]
    public async Task WebSocketWithAWrongTokenIsRefusedBeforeTheUpgrade()
    {
        var cancellationToken = TestClients.Deadline();
        using var client = _app.CreateSocketClient();
        using var request = TestClients.UpgradeRequest($"/ws?token={WrongKey}");

        using var response = await client.SendAsync(request, cancellationToken);

        await response.AssertProblemAsync(401, null, cancellationToken);
    }

    [Fact]
    public async Task KeysPresentedRightOrWrongNeverReachTheLogs()
    {
        var cancellationToken = TestClients.Deadline();
        using var client = _app.CreateSocketClient();
        foreach (var key in new[] { Key, WrongKey })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/events") { Content = JsonContent.Create(new { type = "chat", data = new { } }) };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            using var _ = await client.SendAsync(request, cancellationToken);
            using var socket = new ClientWebSocket();
            try
            {
                await socket.ConnectAsync(_app.WebSocketUri($"/ws?token={key}"), cancellationToken);
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", cancellationToken);
            }
            catch (WebSocketException) when (key == WrongKey)
            {
                // Refused with 401, as it should be.
            }
        }

        // Every request above has its line; the WebSocket's is written once its connection has ended.
        await _logs.WaitForWebSocketEndAndRefusedUpgradeAsync(cancellationToken);
        var lines = _logs.Lines;
        Assert.Contains(lines, line => line.Contains("RequestPath=\"/api/events\"", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, line => line.Contains(Key, StringComparison.Ordinal) || line.Contains(WrongKey, StringComparison.Ordinal));
    }
}
