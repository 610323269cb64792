using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Publishing;

/// <summary>Publishing is limited per client: a burst, then a sustained rate; POST and WebSocket draw on one bucket.</summary>
public sealed class PublishRateLimitTests
{
    [Fact]
    public async Task ABurstOfHundredsAtOnceMeets429WithRetryAfterAndNoSeqIsLost()
    {
        // A burst of 100, refilled at 1 per second so that however slowly the 300 arrive most must be refused; one poll
        // reads back all that was accepted.
        var cancellationToken = TestClients.Deadline(Deadlines.Slow);
        var settings = Limits(burst: 100);
        settings["Realtime:ReadBatchSize"] = "1000";
        await using var app = new RealtimeDemoApplication(settings);
        var client = app.CreateClient();
        var started = TimeProvider.System.GetTimestamp();

        var responses = await Task.WhenAll(Enumerable.Range(0, 300).Select(i =>
            client.PostAsJsonAsync("/api/events", new { type = "burst", data = new { i } }, cancellationToken)));
        var elapsed = TimeProvider.System.GetElapsedTime(started);
        try
        {
            var accepted = responses.Count(r => r.StatusCode == HttpStatusCode.Created);
            var refused = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
            Assert.Equal(300, accepted + refused.Count);
            // The burst, plus at most what the sustained rate refilled while the requests were arriving: the other
            // two hundred or so are refused.
            Assert.InRange(accepted, 100, 100 + RefillsWithin(elapsed));
            Assert.All(refused, response =>
            {
                Assert.True(response.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), "429 without a Retry-After of at least 1 s");
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            });

            // Refused publishes took no seq: what was accepted is exactly 1..accepted.
            var stored = (await client.PollAsync("/api/poll?after=" + (await client.HeadCursorAsync(cancellationToken)).Split('-')[0] + "-0", cancellationToken)).Events;
            Assert.Equal(Enumerable.Range(1, accepted).Select(n => (long)n), stored.Select(e => e.Seq));
        }
        finally
        {
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }
    }

    [Fact]
    public async Task WebSocketPublishesDrawOnTheSameBucketAsPosts()
    {
        var cancellationToken = TestClients.Deadline(Deadlines.Slow);
        await using var app = new KestrelApplication(Limits(Burst));
        using var client = app.CreateSocketClient();
        using var socket = await app.ConnectWebSocketAsync("/ws", cancellationToken);

        // Empty the bucket over the socket: publishes arrive back as events until one is refused with an error frame.
        var (rateError, emptied) = await PublishOverSocketUntilRefusedAsync(socket, cancellationToken);
        Assert.Equal("rate", rateError.GetProperty("field").GetString());
        Assert.Contains($"1 events per second, in bursts of up to {Burst}", rateError.GetProperty("message").GetString(), StringComparison.Ordinal);

        // Of ten POSTs at once, only what the bucket refilled since the socket emptied it can be accepted.
        var posts = await Task.WhenAll(Enumerable.Range(0, Attempts).Select(_ =>
            client.PostAsJsonAsync("/api/events", new { type = "chat", data = new { } }, cancellationToken)));
        var refills = RefillsWithin(TimeProvider.System.GetElapsedTime(emptied));
        try
        {
            Assert.All(posts, post => Assert.True(post.StatusCode is HttpStatusCode.Created or HttpStatusCode.TooManyRequests, $"{post.StatusCode}"));
            var accepted = posts.Count(post => post.StatusCode == HttpStatusCode.Created);
            Assert.True(accepted <= refills, $"{accepted} of {Attempts} POSTs accepted after at most {refills} refills: they were not limited by the socket's publishes");
        }
        finally
        {
            foreach (var post in posts)
            {
                post.Dispose();
            }
        }
    }

    [Fact]
    public async Task PostsEmptyTheBucketForTheSameClientsWebSocket()
    {
        var cancellationToken = TestClients.Deadline(Deadlines.Slow);
        await using var app = new KestrelApplication(Limits(Burst));
        using var client = app.CreateSocketClient();

        // The burst is accepted, and whatever the bucket refilled meanwhile; the attempt after that must be refused.
        var started = TimeProvider.System.GetTimestamp();
        long emptied = 0;
        var attempts = 0;
        while (emptied == 0 && attempts < Burst + RefillsWithin(TimeProvider.System.GetElapsedTime(started)) + 1)
        {
            var sent = TimeProvider.System.GetTimestamp();
            attempts++;
            using var response = await client.PostAsJsonAsync("/api/events", new { type = "chat", data = new { } }, cancellationToken);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                emptied = sent;
            }
            else
            {
                Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            }
        }

        Assert.True(emptied != 0, $"{attempts} POSTs were all accepted by a bucket of {Burst}");

        using var socket = await app.ConnectWebSocketAsync("/ws", cancellationToken);
        for (var i = 0; i < Attempts; i++)
        {
            await socket.SendJsonAsync(new { type = "publish", @event = new { type = "chat", data = new { i } } }, cancellationToken);
        }

        // An answer each: error frames for refused publishes, events for accepted ones; only refills since the POSTs
        // emptied the bucket can have been accepted.
        var answers = new List<JsonElement>();
        while (answers.Count < Attempts)
        {
            answers.Add((await socket.ReceiveJsonAsync(cancellationToken))!.Value);
        }

        var refills = RefillsWithin(TimeProvider.System.GetElapsedTime(emptied));
        var refused = answers.Count(a => a.TryGetProperty("control", out var c) && c.GetString() == "error");
        Assert.True(refused >= Attempts - refills, $"{Attempts - refused} of {Attempts} socket publishes accepted after at most {refills} refills: they were not limited by the POSTs");
        Assert.Equal(WebSocketState.Open, socket.State);
    }

    private const int Burst = 5;

    // Publishes tried after the bucket was emptied: more than it can refill in the seconds a slow machine might take.
    private const int Attempts = 10;

    private static Dictionary<string, string?> Limits(int burst) => new()
    {
        ["Realtime:PublishPermitsPerSecond"] = "1",
        ["Realtime:PublishBurst"] = burst.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    // The bucket refills on its own timer once a second: within a span it can have done so at most this many times.
    private static int RefillsWithin(TimeSpan elapsed) => (int)elapsed.TotalSeconds + 1;

    /// <summary>Publishes over the socket until a publish is refused: the error frame, and when the refused publish was sent (the bucket was empty by then).</summary>
    private static async Task<(JsonElement Error, long Emptied)> PublishOverSocketUntilRefusedAsync(WebSocket socket, CancellationToken cancellationToken)
    {
        for (var i = 0; ; i++)
        {
            var sent = TimeProvider.System.GetTimestamp();
            await socket.SendJsonAsync(new { type = "publish", @event = new { type = "chat", data = new { i } } }, cancellationToken);
            var answer = (await socket.ReceiveJsonAsync(cancellationToken))!.Value;
            if (answer.TryGetProperty("control", out var control))
            {
                Assert.Equal("error", control.GetString());
                return (answer, sent);
            }
        }
    }
}
