using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Hardening;

/// <summary>
/// Requests naming another web origin are refused (403) unless it is allowed; allowed other origins get CORS headers
/// so their pages can read the answers. (WebSocket upgrades: see <c>WebSocketTests</c>.)
/// </summary>
public sealed class OriginTests : IAsyncDisposable
{
    private const string Listed = "https://allowed.example";

    // The ticker adjustable, so a PUT /api/ticker that passed the origin check would change it: a 403 can only be that check's.
    private readonly RealtimeDemoApplication _app = new(new Dictionary<string, string?>
    {
        ["Realtime:AllowedOrigins:0"] = Listed,
        ["Realtime:TickerAdjustable"] = "true",
    });

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    [Theory]
    [InlineData("POST", "/api/events")]
    [InlineData("GET", "/api/poll")]
    [InlineData("GET", "/api/longpoll?timeout=0")]
    [InlineData("GET", "/api/sse")]
    [InlineData("PUT", "/api/ticker")]
    [InlineData("GET", "/api/stats")]
    public async Task RequestsFromAForeignOriginAre403AndChangeNothing(string method, string path)
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();
        var before = await client.HeadCursorAsync(cancellationToken);
        var rateBefore = await TickerRateAsync(client, cancellationToken);
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.Add("Origin", "https://evil.example");
        if (method != "GET")
        {
            request.Content = JsonContent.Create(new { type = "chat", data = new { }, eventsPerSecond = 5 });
        }

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);

        await response.AssertProblemAsync(403, null, cancellationToken);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.Equal(before, await client.HeadCursorAsync(cancellationToken));
        Assert.Equal(rateBefore, await TickerRateAsync(client, cancellationToken)); // the PUT's 5 events/s was not applied
    }

    private static async Task<double> TickerRateAsync(HttpClient client, CancellationToken cancellationToken) =>
        (await client.GetFromJsonAsync<JsonElement>("/api/ticker", cancellationToken)).GetProperty("eventsPerSecond").GetDouble();

    [Theory]
    [InlineData(Listed)]
    [InlineData("http://localhost:3000")]
    [InlineData("http://127.0.0.1:8080")]
    public async Task AllowedOtherOriginsMayPublishAndReadTheAnswer(string origin)
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/events") { Content = JsonContent.Create(new { type = "chat", data = new { } }) };
        request.Headers.Add("Origin", origin);

        using var response = await client.SendAsync(request, cancellationToken);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(origin, Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
    }

    [Fact]
    public async Task ThePagesOwnOriginAndRequestsWithoutOriginAreServed()
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();
        using var own = new HttpRequestMessage(HttpMethod.Get, "/api/poll");
        own.Headers.Add("Origin", "http://localhost"); // the test server's own origin

        using var ownAnswer = await client.SendAsync(own, cancellationToken);
        using var noOriginAnswer = await client.GetAsync("/api/poll", cancellationToken);

        Assert.Equal(HttpStatusCode.OK, ownAnswer.StatusCode);
        Assert.Equal(HttpStatusCode.OK, noOriginAnswer.StatusCode);
    }

    [Theory]
    [InlineData(Listed, HttpStatusCode.NoContent)]
    [InlineData("https://evil.example", HttpStatusCode.Forbidden)]
    public async Task PreflightIsAnsweredForAllowedOriginsOnly(string origin, HttpStatusCode expected)
    {
        var cancellationToken = TestClients.Deadline();
        using var request = new HttpRequestMessage(HttpMethod.Options, "/api/events");
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "authorization, content-type");

        using var response = await _app.CreateClient().SendAsync(request, cancellationToken);

        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.NoContent)
        {
            Assert.Equal(origin, Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
            Assert.Contains("POST", response.Headers.GetValues("Access-Control-Allow-Methods"));
        }
    }
}
