using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Ticker;

/// <summary>The page's ticker control: readable everywhere, adjustable only where the host allows it.</summary>
public sealed class TickerEndpointTests
{
    [Fact]
    public async Task AdjustableHostChangesTheRateAndTheStreamFollows()
    {
        var cancellationToken = TestClients.Deadline();
        await using var app = new RealtimeDemoApplication(new Dictionary<string, string?> { ["Realtime:TickerAdjustable"] = "true" });
        var client = app.CreateClient();
        var start = await client.HeadCursorAsync(cancellationToken);

        using var response = await client.PutAsJsonAsync("/api/ticker", new { eventsPerSecond = 20 }, cancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var state = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        Assert.Equal(20, state.RootElement.GetProperty("eventsPerSecond").GetDouble());
        Assert.True(state.RootElement.GetProperty("adjustable").GetBoolean());
        var ticks = await client.PollAsync($"/api/longpoll?after={start}&timeout=10", cancellationToken);
        Assert.Equal("tick", ticks.Events[0].Type);
    }

    [Fact]
    public async Task FixedHostRefusesWith403AndKeepsItsRate()
    {
        var cancellationToken = TestClients.Deadline();
        await using var app = new RealtimeDemoApplication(new Dictionary<string, string?> { ["Realtime:TickerAdjustable"] = "false" });
        var client = app.CreateClient();

        using var response = await client.PutAsJsonAsync("/api/ticker", new { eventsPerSecond = 20 }, cancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var state = JsonDocument.Parse(await client.GetStringAsync("/api/ticker", cancellationToken));
        Assert.Equal(0, state.RootElement.GetProperty("eventsPerSecond").GetDouble());
        Assert.False(state.RootElement.GetProperty("adjustable").GetBoolean());
    }

    [Theory]
    [InlineData("{\"eventsPerSecond\": -1}")]
    [InlineData("{\"eventsPerSecond\": 10001}")]
    [InlineData("{}")]
    public async Task RateOutOfRangeIs400NamingTheField(string body)
    {
        var cancellationToken = TestClients.Deadline();
        await using var app = new RealtimeDemoApplication(new Dictionary<string, string?> { ["Realtime:TickerAdjustable"] = "true" });

        using var response = await app.CreateClient().PutAsync("/api/ticker", new StringContent(body, System.Text.Encoding.UTF8, "application/json"), cancellationToken);

        await TestClients.AssertInvalidAsync(response, "eventsPerSecond", cancellationToken);
    }

    [Fact]
    public async Task UnreadableBodyIs400NotAServerError()
    {
        var cancellationToken = TestClients.Deadline();
        await using var app = new RealtimeDemoApplication(new Dictionary<string, string?> { ["Realtime:TickerAdjustable"] = "true" });

        using var response = await app.CreateClient().PutAsync("/api/ticker", new StringContent("not json", System.Text.Encoding.UTF8, "application/json"), cancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
