using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using RealtimeDemo.Tests.Infrastructure;
using BadRequest = RealtimeDemo.Tests.Security.BadHttpInputTests.BadRequest;

namespace RealtimeDemo.Tests.Security;

/// <summary>
/// Every origin rule in one place. Requests and WebSocket upgrades naming another web origin are refused (403) unless
/// it is the host's own, a loopback one or listed in <c>Realtime:AllowedOrigins</c>; allowed other origins get CORS
/// headers so their pages can read the answers. Requests without an origin (not a browser) are served.
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

    [Theory]
    [InlineData("https://evil.example")]
    [InlineData("null")]
    public async Task UpgradeFromAForeignOriginIsRefused(string origin)
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.Server.CreateWebSocketClient();
        client.ConfigureRequest = request => request.Headers.Origin = origin;

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => client.ConnectAsync(new Uri(_app.Server.BaseAddress, "ws"), cancellationToken));

        Assert.Contains("403", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://localhost")] // the test server's own origin
    [InlineData("http://127.0.0.1:5000")] // a loopback origin: a developer's machine
    [InlineData(Listed)] // listed in Realtime:AllowedOrigins
    public async Task UpgradeFromAnAllowedOriginIsAccepted(string origin)
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.Server.CreateWebSocketClient();
        client.ConfigureRequest = request => request.Headers.Origin = origin;

        using var socket = await client.ConnectAsync(new Uri(_app.Server.BaseAddress, "ws"), cancellationToken);

        Assert.Equal("welcome", (await socket.ReceiveJsonAsync(cancellationToken))?.GetProperty("control").GetString());
    }

    // Over real Kestrel, where the Host header and a raw handshake can be set as a browser or an attacker would.
    public static TheoryData<string, string?, int> Upgrades => new()
    {
        { "127.0.0.1:{port}", "https://evil.example", 403 },
        { "127.0.0.1:{port}", "http://localhost.evil.example", 403 },      // a loopback name as a prefix only
        { "127.0.0.1:{port}", "http://127.0.0.1.evil.example:{port}", 403 },
        { "realtime.example:{port}", "http://evil.example:{port}", 403 },   // same port, other host
        { "127.0.0.1:{port}", "https://allowed.example.evil", 403 },
        { "realtime.example:{port}", "http://realtime.example:{port}", 101 }, // the host's own origin, not loopback
        { "127.0.0.1:{port}", "http://127.0.0.1:{port}", 101 },              // own and loopback
        { "127.0.0.1:{port}", "http://localhost:3000", 101 },                // loopback: a developer's machine
        { "127.0.0.1:{port}", "http://[::1]:8080", 101 },
        { "127.0.0.1:{port}", Listed, 101 },                                 // Realtime:AllowedOrigins
        { "127.0.0.1:{port}", null, 101 },                                   // not a browser
    };

    [Theory]
    [MemberData(nameof(Upgrades))]
    public async Task UpgradeIsRefusedWith403UnlessTheOriginIsOwnLoopbackOrListed(string host, string? origin, int status)
    {
        await using var app = new KestrelApplication(new Dictionary<string, string?> { ["Realtime:AllowedOrigins:0"] = Listed });
        var cancellationToken = TestClients.Deadline();
        var port = app.BaseAddress.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var (connection, answered, headers) = await RawWebSocket.HandshakeAsync(
            app.BaseAddress, "/ws", cancellationToken, host: host.Replace("{port}", port), origin: origin?.Replace("{port}", port));
        using var client = app.CreateSocketClient();
        using (connection)
        {
            Assert.Equal(status, answered);
            Assert.Equal(status == 101, headers.Contains("\r\nupgrade: websocket", StringComparison.OrdinalIgnoreCase));
            if (status != 101)
            {
                // Refused before the upgrade: no socket was ever open.
                Assert.Equal(0, (await client.TransportStatsAsync("websocket", cancellationToken)).GetProperty("open").GetInt64());
                return;
            }

            // A socket the host serves: greeted, counted while open, and freed once the client is gone.
            await RawWebSocket.AssertWelcomeAsync(connection.GetStream(), cancellationToken);
            await client.WaitForOpenConnectionsAsync("websocket", 1, cancellationToken);
        }

        await client.WaitForOpenConnectionsAsync("websocket", 0, cancellationToken);
    }

    /// <summary>
    /// Foreign origins among the bad inputs of <see cref="BadHttpInputTests"/>, which sends each over real Kestrel and
    /// checks its exact status, its problem body, and that the host's open streams still flow after it.
    /// </summary>
    public static IEnumerable<BadRequest> BadInputRows()
    {
        (string Name, string Value)[] upgrade = [.. TestClients.UpgradeHeaders];
        yield return new BadRequest("GET /ws (upgrade): foreign origin", "GET", "/ws", 403) { Headers = [.. upgrade, ("Origin", "https://evil.example")] };
        yield return new BadRequest("GET /ws (upgrade): origin 'null'", "GET", "/ws", 403) { Headers = [.. upgrade, ("Origin", "null")] };
        yield return new BadRequest("GET /ws (upgrade): a loopback address as a prefix of a foreign host", "GET", "/ws", 403)
        {
            Headers = [.. upgrade, ("Origin", "http://127.0.0.1.evil.example")],
        };

        yield return new BadRequest("GET /api/sse: foreign origin", "GET", "/api/sse", 403) { Headers = [("Origin", "https://evil.example")] };
        yield return new BadRequest("GET /api/poll: origin 'null'", "GET", "/api/poll", 403) { Headers = [("Origin", "null")] };
        yield return new BadRequest("POST /api/events: foreign origin", "POST", "/api/events", 403)
        {
            Headers = [("Origin", "https://evil.example")],
            ContentType = "application/json",
            Body = Encoding.UTF8.GetBytes("""{"type":"a","data":{}}"""),
        };
    }
}
