using System.Net.Http.Json;
using System.Net;
using System.Net.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Tokens;

/// <summary>
/// With <c>Realtime:RequireReaderToken</c> on, every transport and publishing refuse a request without a valid token
/// (<c>401</c> problem details and a Bearer challenge; a WebSocket before its upgrade) and serve one with it. The
/// host's clock is a fake one, so a token expires when the test says.
/// </summary>
public sealed class TransportTokenTests : IAsyncDisposable
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(1);

    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly KestrelApplication _app;

    public TransportTokenTests() =>
        _app = new KestrelApplication(
            TestTokens.Required(("Realtime:TokenLifetime", "00:01:00")),
            services: services => services.AddSingleton<TimeProvider>(_time));

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    public static TheoryData<string> Endpoints => ["short-poll", "long-poll", "sse", "websocket", "publish"];

    public static TheoryData<string, string> EndpointsAndBadTokens
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var endpoint in Endpoints)
            {
                foreach (var token in new[] { "forged", "alg-none", "tampered", "expired", "not-a-jwt" })
                {
                    data.Add(endpoint, token);
                }
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task RequestWithoutATokenIsRefusedWith401AndABearerChallenge(string endpoint)
    {
        var cancellationToken = TestClients.Deadline();
        using var client = _app.CreateSocketClient();
        var before = await HeadAsync(cancellationToken);

        using var response = await SendAsync(client, endpoint, token: null, cancellationToken);

        var problem = await response.AssertProblemAsync(401, null, cancellationToken);
        Assert.Equal("Token required", problem.GetProperty("title").GetString());
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
        Assert.Equal(before, await HeadAsync(cancellationToken));
    }

    [Theory]
    [MemberData(nameof(EndpointsAndBadTokens))]
    public async Task RequestWithABadTokenIsRefusedWith401AndInvalidToken(string endpoint, string kind)
    {
        var cancellationToken = TestClients.Deadline();
        using var client = _app.CreateSocketClient();
        var before = await HeadAsync(cancellationToken);
        var (good, expiresAt) = await client.SignInAsync("ada", cancellationToken);
        var token = kind switch
        {
            "forged" => TestTokens.Forged(),
            "alg-none" => TestTokens.Unsigned(),
            "tampered" => TestTokens.Tampered(good),
            "expired" => good,
            _ => "not.a.jwt",
        };
        if (kind == "expired")
        {
            // Exactly at its exp a token is no longer valid: no leeway.
            _time.SetUtcNow(expiresAt);
        }

        using var response = await SendAsync(client, endpoint, token, cancellationToken);

        var problem = await response.AssertProblemAsync(401, null, cancellationToken);
        Assert.Equal("Bearer error=\"invalid_token\"", response.Headers.WwwAuthenticate.ToString());
        if (kind == "expired")
        {
            Assert.Equal("Token expired", problem.GetProperty("title").GetString());
            Assert.Contains(StoredEvent.FormatTime(expiresAt), problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(before, await HeadAsync(cancellationToken));
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task RequestWithAValidTokenIsServed(string endpoint)
    {
        var cancellationToken = TestClients.Deadline();
        using var client = _app.CreateSocketClient();
        var (token, _) = await client.SignInAsync("ada", cancellationToken);

        // A second before its expiry it is still good.
        _time.Advance(Lifetime - TimeSpan.FromSeconds(1));
        if (endpoint == "websocket")
        {
            using var socket = await _app.ConnectWebSocketAsync($"/ws?access_token={token}", cancellationToken);
            return;
        }

        using var response = await SendAsync(client, endpoint, token, cancellationToken);

        Assert.Equal(endpoint == "publish" ? HttpStatusCode.Created : HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("sse")]
    [InlineData("websocket")]
    public async Task StreamsAlsoTakeTheTokenAsABearerHeader(string endpoint)
    {
        var cancellationToken = TestClients.Deadline();
        using var client = _app.CreateSocketClient();
        var (token, _) = await client.SignInAsync("ada", cancellationToken);
        if (endpoint == "websocket")
        {
            using var socket = await new ClientWebSocket().HandshakeAsync(async socket =>
            {
                socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
                await socket.ConnectAsync(_app.WebSocketUri("/ws"), cancellationToken);
            });
            Assert.Equal("welcome", (await socket.ReceiveNextAsync(cancellationToken)).GetProperty("control").GetString());
            return;
        }

        using var response = await SendAsync(client, endpoint, token, cancellationToken, inQuery: false);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("short-poll")]
    [InlineData("long-poll")]
    [InlineData("publish")]
    public async Task PollsAndPublishDoNotTakeTheTokenFromTheQuery(string endpoint)
    {
        // Only the transports whose browser APIs cannot set headers take it in the URL, where it risks being logged.
        var cancellationToken = TestClients.Deadline();
        using var client = _app.CreateSocketClient();
        var (token, _) = await client.SignInAsync("ada", cancellationToken);

        using var response = await SendAsync(client, endpoint, token, cancellationToken, inQuery: true);

        await response.AssertProblemAsync(401, null, cancellationToken);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task StatsTickerHealthAndThePageStayOpen()
    {
        var cancellationToken = TestClients.Deadline();
        using var client = _app.CreateSocketClient();

        foreach (var path in new[] { "/api/stats", "/api/ticker", "/healthz", "/" })
        {
            using var response = await client.GetAsync(path, cancellationToken);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path} answered {(int)response.StatusCode}");
        }

        using var stats = System.Text.Json.JsonDocument.Parse(await client.GetStringAsync("/api/stats", cancellationToken));
        Assert.True(stats.RootElement.GetProperty("readerTokenRequired").GetBoolean());
    }

    [Fact]
    public async Task WithoutRequireReaderTokenNothingNeedsATokenAndStatsSaySo()
    {
        await using var open = new KestrelApplication();
        var cancellationToken = TestClients.Deadline();
        using var client = open.CreateSocketClient();

        var published = await client.PublishAsync("test", new { }, cancellationToken);
        using var socket = await open.ConnectWebSocketAsync("/ws", cancellationToken);

        Assert.Single((await client.PollAsync("/api/poll?after=" + $"{published.Id.Split('-')[0]}-0", cancellationToken)).Events);
        using var stats = System.Text.Json.JsonDocument.Parse(await client.GetStringAsync("/api/stats", cancellationToken));
        Assert.False(stats.RootElement.GetProperty("readerTokenRequired").GetBoolean());
    }

    private async Task<string> HeadAsync(CancellationToken cancellationToken)
    {
        using var client = _app.CreateSocketClient();
        return (await client.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/stats", cancellationToken)).GetProperty("head").GetString()!;
    }

    /// <summary>
    /// One request to <paramref name="endpoint"/> carrying <paramref name="token"/> the way its clients do: a bearer
    /// header for polls and publishing, <c>?access_token=</c> for SSE and WebSocket (unless told otherwise).
    /// </summary>
    private static async Task<HttpResponseMessage> SendAsync(
        HttpClient client, string endpoint, string? token, CancellationToken cancellationToken, bool? inQuery = null)
    {
        var query = inQuery ?? endpoint is "sse" or "websocket";
        var request = endpoint switch
        {
            "short-poll" => new HttpRequestMessage(HttpMethod.Get, "/api/poll"),
            "long-poll" => new HttpRequestMessage(HttpMethod.Get, "/api/longpoll?timeout=0"),
            "sse" => new HttpRequestMessage(HttpMethod.Get, "/api/sse"),
            "websocket" => TestClients.UpgradeRequest("/ws"),
            _ => new HttpRequestMessage(HttpMethod.Post, "/api/events")
            {
                Content = System.Net.Http.Json.JsonContent.Create(new { type = "test", data = new { } }),
            },
        };
        if (token is not null && query)
        {
            var path = request.RequestUri!.OriginalString;
            request.RequestUri = new Uri($"{path}{(path.Contains('?') ? '&' : '?')}access_token={token}", UriKind.Relative);
        }
        else if (token is not null)
        {
            request.Headers.Authorization = new("Bearer", token);
        }

        using (request)
        {
            // Headers first: an accepted SSE stream never ends by itself.
            return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
    }
}
