using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Hardening;

/// <summary>Publishing is limited per client: a burst, then a sustained rate; POST and WebSocket draw on one bucket.</summary>
public sealed class RateLimitTests
{
    [Fact]
    public async Task ABurstOfHundredsAtOnceMeets429WithRetryAfterAndNoSeqIsLost()
    {
        // The default limits (50 per second sustained, bursts of 100); one poll reads back all that was accepted.
        var cancellationToken = TestClients.Deadline(30);
        await using var app = new RealtimeDemoApplication(new Dictionary<string, string?> { ["Realtime:ReadBatchSize"] = "1000" });
        var client = app.CreateClient();
        var started = TimeProvider.System.GetTimestamp();

        var responses = await Task.WhenAll(Enumerable.Range(0, 300).Select(i =>
            client.PostAsJsonAsync("/api/events", new { type = "burst", data = new { i } }, cancellationToken)));
        var elapsed = TimeProvider.System.GetElapsedTime(started);

        var accepted = responses.Count(r => r.StatusCode == HttpStatusCode.Created);
        var refused = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.Equal(300, accepted + refused.Count);
        // The burst, plus at most what the sustained rate refilled while the requests were arriving.
        Assert.InRange(accepted, 100, 100 + (50 * ((int)elapsed.TotalSeconds + 1)));
        Assert.All(refused, response =>
        {
            Assert.True(response.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), "429 without a Retry-After of at least 1 s");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        });

        // Refused publishes took no seq: what was accepted is exactly 1..accepted.
        var stored = (await client.PollAsync("/api/poll?after=" + (await client.HeadCursorAsync(cancellationToken)).Split('-')[0] + "-0", cancellationToken)).Events;
        Assert.Equal(Enumerable.Range(1, accepted).Select(n => (long)n), stored.Select(e => e.Seq));
    }

    [Fact]
    public async Task WebSocketPublishesDrawOnTheSameBucketAsPosts()
    {
        var cancellationToken = TestClients.Deadline(30);
        await using var app = new KestrelApplication(Limits(burst: 5));
        using var client = app.CreateSocketClient();
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(app.WebSocketUri("/ws"), cancellationToken);
        Assert.Equal("welcome", (await socket.ReceiveJsonAsync(cancellationToken))?.GetProperty("control").GetString());

        // Empty the bucket over the socket: publishes arrive back as events until one is refused with an error frame.
        var rateError = await PublishOverSocketUntilRefusedAsync(socket, cancellationToken);
        Assert.Equal("rate", rateError.GetProperty("field").GetString());
        Assert.Contains("1 events per second, in bursts of up to 5", rateError.GetProperty("message").GetString(), StringComparison.Ordinal);

        // The bucket refills by one a second, so of three POSTs at once at most one can find a token.
        var posts = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ =>
            client.PostAsJsonAsync("/api/events", new { type = "chat", data = new { } }, cancellationToken)));
        Assert.True(posts.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests) >= 2, "POSTs were not limited by the socket's publishes");
    }

    [Fact]
    public async Task PostsEmptyTheBucketForTheSameClientsWebSocket()
    {
        var cancellationToken = TestClients.Deadline(30);
        await using var app = new KestrelApplication(Limits(burst: 5));
        using var client = app.CreateSocketClient();
        while ((await client.PostAsJsonAsync("/api/events", new { type = "chat", data = new { } }, cancellationToken)).StatusCode == HttpStatusCode.Created)
        {
            // Five are accepted (and perhaps one more refilled meanwhile), then 429.
        }

        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(app.WebSocketUri("/ws"), cancellationToken);
        Assert.Equal("welcome", (await socket.ReceiveJsonAsync(cancellationToken))?.GetProperty("control").GetString());
        for (var i = 0; i < 3; i++)
        {
            await socket.SendJsonAsync(new { type = "publish", @event = new { type = "chat", data = new { i } } }, cancellationToken);
        }

        // Three answers: error frames for refused publishes, events for accepted ones; at most one refill can land.
        var answers = new List<System.Text.Json.JsonElement>();
        while (answers.Count < 3)
        {
            answers.Add((await socket.ReceiveJsonAsync(cancellationToken))!.Value);
        }

        Assert.True(answers.Count(a => a.TryGetProperty("control", out var c) && c.GetString() == "error") >= 2, "the socket's publishes were not limited by the POSTs");
        Assert.Equal(WebSocketState.Open, socket.State);
    }

    private static Dictionary<string, string?> Limits(int burst) => new()
    {
        ["Realtime:PublishPermitsPerSecond"] = "1",
        ["Realtime:PublishBurst"] = burst.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private static async Task<System.Text.Json.JsonElement> PublishOverSocketUntilRefusedAsync(ClientWebSocket socket, CancellationToken cancellationToken)
    {
        for (var i = 0; ; i++)
        {
            await socket.SendJsonAsync(new { type = "publish", @event = new { type = "chat", data = new { i } } }, cancellationToken);
            var answer = (await socket.ReceiveJsonAsync(cancellationToken))!.Value;
            if (answer.TryGetProperty("control", out var control))
            {
                Assert.Equal("error", control.GetString());
                return answer;
            }
        }
    }
}
