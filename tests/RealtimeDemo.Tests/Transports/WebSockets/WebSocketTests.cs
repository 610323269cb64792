using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Transports.WebSockets;

/// <summary><c>/ws</c>: events and control messages as text frames; the client may publish on the same socket.</summary>
public sealed class WebSocketTests : IAsyncDisposable
{
    private readonly RealtimeDemoApplication _app = new();

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    [Fact]
    public async Task FirstMessageIsWelcomeWithTheStartCursor()
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();
        var published = await client.PublishManyAsync(2, cancellationToken);

        var (socket, welcome) = await _app.ConnectWelcomedAsync("", cancellationToken);
        using var _ = socket;

        // No cursor means "from now": the welcome names the head, and history is not replayed.
        Assert.Equal(published[^1].Id, welcome.GetProperty("cursor").GetString());
        Assert.Equal(500, welcome.GetProperty("heartbeatMs").GetInt64()); // the tests' Realtime:HeartbeatInterval
        var next = await client.PublishAsync("chat", new { text = "after" }, cancellationToken);
        Assert.Equal(next.Id, Assert.Single(await socket.ReceiveEventsAsync(1, cancellationToken)).Id);
    }

    [Fact]
    public async Task WelcomeNamesTheStreamsEpochEvenForAForeignCursor()
    {
        var cancellationToken = TestClients.Deadline();
        var epoch = (await _app.CreateClient().HeadCursorAsync(cancellationToken)).Split('-')[0];

        var (socket, welcome) = await _app.ConnectWelcomedAsync("?after=zzzzzz-3", cancellationToken);
        using var _ = socket;

        Assert.Equal(epoch, welcome.GetProperty("epoch").GetString());
        var gap = await socket.ReceiveNextAsync(cancellationToken);
        Assert.Equal("gap", gap.GetProperty("control").GetString());
        Assert.Equal($"{epoch}-0", gap.GetProperty("cursor").GetString());
    }

    [Fact]
    public async Task WelcomeTimeIsTheHostsClockNowInUtcMilliseconds()
    {
        var cancellationToken = TestClients.Deadline();
        var before = DateTimeOffset.UtcNow;

        var (socket, welcome) = await _app.ConnectWelcomedAsync("", cancellationToken);
        using var _ = socket;
        var after = DateTimeOffset.UtcNow;

        // The event time format exactly: UTC, milliseconds, a Z; and the host's clock (this process's) while connecting.
        var text = welcome.GetProperty("time").GetString();
        var parsed = DateTimeOffset.TryParseExact(
            text, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time);
        Assert.True(parsed, $"The welcome's time is not in the event time format: {text}");
        var beforeInMilliseconds = before.AddTicks(-(before.Ticks % TimeSpan.TicksPerMillisecond));
        Assert.InRange(time, beforeInMilliseconds, after);
    }

    [Fact]
    public async Task IdleSocketGetsHeartbeatsCarryingTheHeadCursor()
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();
        var published = await client.PublishManyAsync(2, cancellationToken);

        var (socket, welcome) = await _app.ConnectWelcomedAsync($"?after={published[0].Id}", cancellationToken);
        using var _ = socket;
        Assert.Equal(500, welcome.GetProperty("heartbeatMs").GetInt64());
        Assert.Equal(published[1].Id, Assert.Single(await socket.ReceiveEventsWithoutGapAsync(1, cancellationToken)).Id);

        // Nothing more is published: each 0.5 s of silence brings a heartbeat naming the log's head, and nothing else.
        for (var i = 0; i < 2; i++)
        {
            var heartbeat = await socket.ReceiveNextAsync(cancellationToken, heartbeats: true);
            Assert.Equal($$"""{"control":"heartbeat","head":"{{published[1].Id}}"}""", heartbeat.GetRawText());
        }
    }

    [Fact]
    public async Task BusySocketGetsNoHeartbeatWhileEventsComeFasterThanTheInterval()
    {
        // The host's clock moves only when the test moves it: events 0.6 s apart, for 3 s in all, against a 1 s interval.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = new RealtimeDemoApplication(
            new Dictionary<string, string?> { ["Realtime:HeartbeatInterval"] = "00:00:01" },
            services => services.AddSingleton<TimeProvider>(time));
        var cancellationToken = TestClients.Deadline();
        var client = app.CreateClient();
        var (socket, _) = await app.ConnectWelcomedAsync("", cancellationToken);
        using var __ = socket;

        WireEvent? last = null;
        for (var i = 0; i < 5; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(600));
            last = await client.PublishAsync("test", new { n = i }, cancellationToken);

            // A heartbeat owed by a timer that did not restart with each event would come before the event.
            var next = await socket.ReceiveNextAsync(cancellationToken, heartbeats: true);
            Assert.True(next.TryGetProperty("id", out var id) && id.GetString() == last.Id, $"Expected event {last.Id}, received {next}.");
        }

        // Then a whole interval of silence does bring one. (The clock is moved until it comes: the host may not be
        // waiting yet when it is first moved, and its wait is timed from when it starts.)
        var heartbeat = socket.ReceiveNextAsync(cancellationToken, heartbeats: true);
        await TestClients.WaitUntilAsync(() =>
        {
            time.Advance(TimeSpan.FromSeconds(1));
            return Task.FromResult(heartbeat.IsCompleted);
        }, cancellationToken);
        Assert.Equal("heartbeat", (await heartbeat).GetProperty("control").GetString());
        Assert.Equal(last!.Id, (await heartbeat).GetProperty("head").GetString());
    }

    [Fact]
    public async Task EmptyAfterStartsFromNowWithoutHistory()
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();
        var published = await client.PublishManyAsync(3, cancellationToken);

        var (socket, welcome) = await _app.ConnectWelcomedAsync("?after=", cancellationToken);
        using var _ = socket;

        Assert.Equal(published[^1].Id, welcome.GetProperty("cursor").GetString());
        var next = await client.PublishAsync("chat", new { text = "after" }, cancellationToken);
        Assert.Equal(next.Id, Assert.Single(await socket.ReceiveEventsWithoutGapAsync(1, cancellationToken)).Id);
    }

    [Theory]
    [InlineData("expired")]
    [InlineData("epoch-changed")]
    public async Task GapObjectNamesTheEpochTheStreamContinuesIn(string reason)
    {
        // The smallest ring: 40 events push the first 24 out.
        await using var app = new RealtimeDemoApplication(new Dictionary<string, string?> { ["Realtime:Retention"] = "16" });
        var cancellationToken = TestClients.Deadline();
        var client = app.CreateClient();
        var published = await client.PublishManyAsync(40, cancellationToken);
        using var stats = JsonDocument.Parse(await client.GetStringAsync("/api/stats", cancellationToken));
        var epoch = stats.RootElement.GetProperty("epoch").GetString();
        var after = reason == "expired" ? published[0].Id : TestClients.ForeignCursor;

        var (socket, _) = await app.ConnectWelcomedAsync($"?after={after}", cancellationToken);
        using var __ = socket;
        var gap = await socket.ReceiveNextAsync(cancellationToken);

        AssertGap(gap, reason);
        Assert.Equal(epoch, gap.GetProperty("epoch").GetString());
        Assert.Equal(published[23].Id, gap.GetProperty("cursor").GetString());
        Assert.Equal(published[24].Id, (await socket.ReceiveNextAsync(cancellationToken)).GetProperty("id").GetString());
    }

    [Fact]
    public async Task ResumesFromMidStreamCursorWithoutDuplicates()
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();
        var published = await client.PublishManyAsync(10, cancellationToken);

        var (socket, welcome) = await _app.ConnectWelcomedAsync($"?after={published[3].Id}", cancellationToken);
        using var _ = socket;
        Assert.Equal(published[3].Id, welcome.GetProperty("cursor").GetString());

        var read = await ReceiveMessagesAsync(socket, 6, cancellationToken);
        Assert.Equal(published[4..].Select(e => e.Id), read.Select(m => m.GetProperty("id").GetString()));

        // The next message must be the next event: nothing duplicated or stray sits in between.
        var sentinel = await client.PublishAsync("sentinel", new { }, cancellationToken);
        Assert.Equal(sentinel.Id, (await ReceiveMessagesAsync(socket, 1, cancellationToken))[0].GetProperty("id").GetString());
    }

    [Fact]
    public async Task TooOldCursorSendsGapAfterWelcomeThenOldestRetained()
    {
        // The smallest ring: 40 events push the first 24 out.
        await using var app = new RealtimeDemoApplication(new Dictionary<string, string?> { ["Realtime:Retention"] = "16" });
        var cancellationToken = TestClients.Deadline();
        var client = app.CreateClient();
        var published = await client.PublishManyAsync(40, cancellationToken);

        var (socket, _) = await app.ConnectWelcomedAsync($"?after={published[0].Id}", cancellationToken);
        using var __ = socket;
        var read = await ReceiveMessagesAsync(socket, 17, cancellationToken);

        AssertGap(read[0], "expired");
        Assert.Equal(Enumerable.Range(25, 16).Select(seq => (long)seq), read.Skip(1).Select(m => m.GetProperty("seq").GetInt64()));
    }

    [Fact]
    public async Task ForeignEpochCursorSendsEpochChangedGap()
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();
        var published = await client.PublishManyAsync(3, cancellationToken);

        var (socket, _) = await _app.ConnectWelcomedAsync($"?after={TestClients.ForeignCursor}", cancellationToken);
        using var __ = socket;
        var read = await ReceiveMessagesAsync(socket, 4, cancellationToken);

        AssertGap(read[0], "epoch-changed");
        Assert.Equal(published.Select(e => e.Id), read.Skip(1).Select(m => m.GetProperty("id").GetString()));
    }

    [Theory]
    [InlineData("bad")]
    [InlineData("abc-")]
    [InlineData("ABC-1")]
    public async Task MalformedCursorIsRefusedBeforeTheUpgrade(string after)
    {
        var cancellationToken = TestClients.Deadline();
        var query = $"?after={Uri.EscapeDataString(after)}";

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(
            () => _app.Server.CreateWebSocketClient().ConnectAsync(new Uri(_app.Server.BaseAddress, "ws" + query), cancellationToken));
        Assert.Contains("400", refused.Message);

        var answer = await SendUpgradeRequestAsync(_app, query, cancellationToken);
        await TestClients.AssertInvalidAsync(answer.StatusCode, MediaTypeOf(answer), answer.Body, "after", cancellationToken);
    }

    [Fact]
    public async Task CursorAheadOfHeadIsRefusedBeforeTheUpgrade()
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();
        var published = await client.PublishManyAsync(2, cancellationToken);
        var epoch = published[0].Id[..published[0].Id.LastIndexOf('-')];

        var answer = await SendUpgradeRequestAsync(_app, $"?after={epoch}-3", cancellationToken);

        await TestClients.AssertInvalidAsync(answer.StatusCode, MediaTypeOf(answer), answer.Body, "after", cancellationToken);
    }

    [Fact]
    public async Task PlainGetWithoutUpgradeIsRefused()
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();

        using var response = await client.GetAsync("/ws", cancellationToken);

        await response.AssertInvalidAsync("upgrade", cancellationToken);
    }

    [Fact]
    public async Task ClientPublishReachesEveryTransportAndThePublisher()
    {
        var cancellationToken = TestClients.Deadline(Deadlines.Slow);
        var client = _app.CreateClient();
        var head = await client.HeadCursorAsync(cancellationToken);

        var (sseResponse, sse) = await client.OpenSseAsync($"/api/sse?after={head}", cancellationToken);
        using var _ = sseResponse;
        var (publisher, _) = await _app.ConnectWelcomedAsync($"?after={head}", cancellationToken);
        using var __ = publisher;
        var longPolling = client.PollAsync($"/api/longpoll?after={head}&timeout=30", cancellationToken);
        await client.WaitForOpenConnectionsAsync("long-poll", 1, cancellationToken);

        await publisher.SendJsonAsync(new { type = "publish", @event = new { type = "chat", data = new { text = "hi" } } }, cancellationToken);

        var echoed = Assert.Single(await publisher.ReceiveEventsAsync(1, cancellationToken));
        Assert.Equal("chat", echoed.Type);
        Assert.Equal("hi", echoed.Data.GetProperty("text").GetString());
        Assert.Equal(echoed.Id, Assert.Single((await client.PollAsync($"/api/poll?after={head}", cancellationToken)).Events).Id);
        Assert.Equal(echoed.Id, Assert.Single((await longPolling).Events).Id);
        Assert.Equal(echoed.Id, Assert.Single(await sse.ReadSseAsync(1)).ToEvent().Id);
    }

    [Fact]
    public async Task InvalidJsonEarnsErrorFrameAndConnectionStaysUsable()
    {
        var cancellationToken = TestClients.Deadline();
        var (socket, _) = await _app.ConnectWelcomedAsync("", cancellationToken);
        using var __ = socket;

        await socket.SendAsync(Encoding.UTF8.GetBytes("{not json"), WebSocketMessageType.Text, true, cancellationToken);
        AssertError(await socket.ReceiveNextAsync(cancellationToken), "message");

        await socket.SendJsonAsync(new { type = "publish", @event = new { type = "chat", data = new { text = "still here" } } }, cancellationToken);
        var published = Assert.Single(await socket.ReceiveEventsAsync(1, cancellationToken));
        Assert.Equal("still here", published.Data.GetProperty("text").GetString());
    }

    [Fact]
    public async Task UnknownMessageTypeEarnsErrorNamingType()
    {
        var cancellationToken = TestClients.Deadline();
        var (socket, _) = await _app.ConnectWelcomedAsync("", cancellationToken);
        using var __ = socket;

        await socket.SendJsonAsync(new { type = "subscribe" }, cancellationToken);

        AssertError(await socket.ReceiveNextAsync(cancellationToken), "type");
        Assert.Equal(WebSocketState.Open, socket.State);
    }

    [Theory]
    [InlineData("""{"type":"publish","event":{"type":"not a type!","data":{}}}""", "event.type")]
    [InlineData("""{"type":"publish","event":{"type":"chat","data":"hi"}}""", "event.data")]
    [InlineData("""{"type":"publish","event":{"type":"chat","data":[1]}}""", "event.data")]
    [InlineData("""{"type":"publish","event":{"type":"chat","data":{"s":"\uD800"}}}""", "event.data")]
    [InlineData("""{"type":"publish","event":{"type":"chat","data":{}},"extra":1}""", "extra")]
    [InlineData("""{"type":"publish","event":{"type":"chat","data":{"\uD800":1}}}""", "message")]
    public async Task PublishBreakingTheRulesEarnsErrorNamingTheEventField(string message, string field)
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();
        var head = await client.HeadCursorAsync(cancellationToken);
        var (socket, _) = await _app.ConnectWelcomedAsync("", cancellationToken);
        using var __ = socket;

        await socket.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, true, cancellationToken);

        AssertError(await socket.ReceiveNextAsync(cancellationToken), field);
        Assert.Equal(head, await client.HeadCursorAsync(cancellationToken));
    }

    /// <summary>The next <paramref name="count"/> messages in order, control messages included.</summary>
    private static async Task<List<JsonElement>> ReceiveMessagesAsync(WebSocket socket, int count, CancellationToken cancellationToken)
    {
        var messages = new List<JsonElement>(count);
        while (messages.Count < count)
        {
            messages.Add(await socket.ReceiveNextAsync(cancellationToken));
        }

        return messages;
    }

    /// <summary>
    /// An upgrade request whose answer can be read: the test server's WebSocket client only reports a refused
    /// handshake's status, and a plain GET is refused for lacking the upgrade before the cursor is looked at.
    /// </summary>
    private static async Task<HttpResponse> SendUpgradeRequestAsync(RealtimeDemoApplication app, string query, CancellationToken cancellationToken)
    {
        var context = await app.Server.SendAsync(
            context =>
            {
                context.Request.Path = "/ws";
                context.Request.QueryString = new QueryString(query);
                context.Features.Set<IHttpWebSocketFeature>(new UpgradeNotExpected());
            },
            cancellationToken);
        return context.Response;
    }

    private static string? MediaTypeOf(HttpResponse response) =>
        MediaTypeHeaderValue.TryParse(response.ContentType, out var contentType) ? contentType.MediaType : null;

    private static void AssertGap(JsonElement message, string reason)
    {
        Assert.Equal("gap", message.GetProperty("control").GetString());
        Assert.Equal(reason, message.GetProperty("reason").GetString());
    }

    private static void AssertError(JsonElement message, string field)
    {
        Assert.Equal("error", message.GetProperty("control").GetString());
        Assert.Equal(field, message.GetProperty("field").GetString());
    }

    /// <summary>Claims to be a WebSocket request; the server must refuse it before accepting.</summary>
    private sealed class UpgradeNotExpected : IHttpWebSocketFeature
    {
        public bool IsWebSocketRequest => true;

        public Task<WebSocket> AcceptAsync(WebSocketAcceptContext context) =>
            throw new InvalidOperationException("The server accepted an upgrade it should have refused.");
    }
}
