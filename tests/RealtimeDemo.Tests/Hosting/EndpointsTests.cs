using System.Net;
using System.Text.Json;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Hosting;

/// <summary>The host's own endpoints besides the transports: the page, health and stats (metrics: <see cref="MetricsTests"/>).</summary>
public sealed class EndpointsTests : IAsyncDisposable
{
    private readonly RealtimeDemoApplication _app = new();

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    [Fact]
    public async Task ServesThePageAtTheRoot()
    {
        using var response = await _app.CreateClient().GetAsync("/", TestClients.Deadline());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("RealtimeDemo", await response.Content.ReadAsStringAsync(TestClients.Deadline()), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HealthzReportsHealthy()
    {
        using var response = await _app.CreateClient().GetAsync("/healthz", TestClients.Deadline());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync(TestClients.Deadline()));
    }

    [Fact]
    public async Task StatsCountDeliveriesPerTransport()
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();
        var start = await client.HeadCursorAsync(cancellationToken);
        await client.PublishManyAsync(3, cancellationToken);
        await client.PollAsync($"/api/poll?after={start}", cancellationToken);

        using var stats = JsonDocument.Parse(await client.GetStringAsync("/api/stats", cancellationToken));

        var shortPoll = stats.RootElement.GetProperty("transports").GetProperty("short-poll");
        Assert.Equal(2, shortPoll.GetProperty("requests").GetInt64());
        Assert.Equal(1, shortPoll.GetProperty("emptyResponses").GetInt64());
        Assert.Equal(3, shortPoll.GetProperty("delivered").GetInt64());
        Assert.Equal(3, stats.RootElement.GetProperty("seq").GetInt64());
        Assert.Equal($"{stats.RootElement.GetProperty("epoch").GetString()}-3", stats.RootElement.GetProperty("head").GetString());
    }

    [Fact]
    public async Task StatsReportTheHeartbeatIntervalInMilliseconds()
    {
        // Not a whole second: the figure is milliseconds, not seconds rounded.
        await using var app = new RealtimeDemoApplication(new Dictionary<string, string?> { ["Realtime:HeartbeatInterval"] = "00:00:07.250" });
        var cancellationToken = TestClients.Deadline();

        using var stats = JsonDocument.Parse(await app.CreateClient().GetStringAsync("/api/stats", cancellationToken));

        Assert.Equal(JsonValueKind.Number, stats.RootElement.GetProperty("heartbeatMs").ValueKind);
        Assert.Equal(7250, stats.RootElement.GetProperty("heartbeatMs").GetInt64());
    }

    [Theory]
    [InlineData("DELETE", "/api/events", "POST")]
    [InlineData("GET", "/api/events", "POST")]
    [InlineData("POST", "/api/poll", "GET")]
    [InlineData("DELETE", "/api/ticker", "GET, PUT")]
    public async Task WrongMethodAnswers405WithTheAllowedMethods(string method, string path, string allowed)
    {
        var cancellationToken = TestClients.Deadline();
        using var request = new HttpRequestMessage(new HttpMethod(method), path);

        using var response = await _app.CreateClient().SendAsync(request, cancellationToken);

        await response.AssertProblemAsync(405, null, cancellationToken);
        Assert.Equal(allowed.Split(", ").Order(), response.Content.Headers.Allow.Order());
    }
}
