using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Text.Json;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Transports;

/// <summary><c>GET /api/sse</c>: one long <c>text/event-stream</c> response, resumable by <c>Last-Event-ID</c>.</summary>
public sealed class SseTests : IAsyncDisposable
{
    private readonly RealtimeDemoApplication _app = new();

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    [Fact]
    public async Task StreamStartsWithRetryHintThenRawIdAndDataLines()
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();
        var head = await client.HeadCursorAsync(cancellationToken);

        // The POST answer is the stored JSON itself: the SSE data line must carry the very same text.
        var stored = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            using var posted = await client.PostAsJsonAsync("/api/events", new { type = "test", data = new { n = i } }, cancellationToken);
            Assert.Equal(HttpStatusCode.Created, posted.StatusCode);
            stored.Add(await posted.Content.ReadAsStringAsync(cancellationToken));
        }

        using var response = await client.GetAsync($"/api/sse?after={head}", HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.CacheControl?.NoCache, "An event stream must not be cached.");
        Assert.Equal("no", Assert.Single(response.Headers.GetValues("X-Accel-Buffering")));
        using var lines = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));

        // The welcome's own lines are checked by StreamStartsWithRetryThenAWelcomeEventWithoutId.
        Assert.Equal(["retry: 500", "", "event: welcome"], await ReadLinesAsync(lines, 3, cancellationToken));
        Assert.StartsWith("data: ", await lines.ReadLineAsync(cancellationToken), StringComparison.Ordinal);
        Assert.Equal("", await lines.ReadLineAsync(cancellationToken));

        var expected = new List<string>();
        foreach (var json in stored)
        {
            var id = JsonDocument.Parse(json).RootElement.GetProperty("id").GetString();
            expected.AddRange([$"id: {id}", $"data: {json}", ""]);
        }

        Assert.Equal(expected, await ReadLinesAsync(lines, expected.Count, cancellationToken));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task StreamStartsWithRetryThenAWelcomeEventWithoutId(bool fromNow)
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();
        var published = await client.PublishManyAsync(3, cancellationToken);
        var epoch = await StreamEpochAsync(client, cancellationToken);
        var before = DateTimeOffset.UtcNow;

        using var response = await client.GetAsync(
            fromNow ? "/api/sse" : $"/api/sse?after={published[0].Id}", HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        using var lines = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
        var read = await ReadLinesAsync(lines, 5, cancellationToken);

        // No id line: a browser's Last-Event-ID stays where it was.
        Assert.Equal(["retry: 500", "", "event: welcome"], read[..3]);
        Assert.StartsWith("data: ", read[3], StringComparison.Ordinal);
        Assert.Equal("", read[4]);
        using var welcome = JsonDocument.Parse(read[3]["data: ".Length..]);
        Assert.Equal("welcome", welcome.RootElement.GetProperty("control").GetString());
        Assert.Equal(fromNow ? published[^1].Id : published[0].Id, welcome.RootElement.GetProperty("cursor").GetString());
        Assert.Equal(epoch, welcome.RootElement.GetProperty("epoch").GetString());
        Assert.Equal(500, welcome.RootElement.GetProperty("heartbeatMs").GetInt64()); // the tests' Realtime:HeartbeatInterval
        var time = DateTimeOffset.Parse(welcome.RootElement.GetProperty("time").GetString()!, CultureInfo.InvariantCulture);
        Assert.InRange(time, before.AddMilliseconds(-1), DateTimeOffset.UtcNow);
    }

    [Fact]
    public async Task IdleStreamSendsANamedHeartbeatCarryingTheHeadCursor()
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();
        var published = await client.PublishManyAsync(2, cancellationToken);

        using var response = await client.GetAsync("/api/sse", HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        using var lines = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));

        // Nothing is published after the welcome, so what follows can only be the 0.5 s heartbeats, without an id line.
        var read = await ReadLinesAsync(lines, 11, cancellationToken);
        Assert.Equal(["retry: 500", "", "event: welcome"], read[..3]);
        var heartbeat = new[] { "event: heartbeat", $$"""data: {"control":"heartbeat","head":"{{published[^1].Id}}"}""", "" };
        Assert.Equal([.. heartbeat, .. heartbeat], read[5..]);
    }

    [Fact]
    public async Task HeartbeatLeavesTheLastEventIdAsItWas()
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();
        var head = await client.HeadCursorAsync(cancellationToken);
        using var response = await client.GetAsync($"/api/sse?after={head}", HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        var parser = SseParser.Create(await response.Content.ReadAsStreamAsync(cancellationToken));
        await using var items = parser.EnumerateAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
        var published = await client.PublishAsync("test", new { }, cancellationToken);

        // The event, then (nothing more being published) a heartbeat naming it as the head.
        var read = new List<SseItem<string>>();
        var sawEvent = false;
        while (await items.MoveNextAsync())
        {
            read.Add(items.Current);
            sawEvent |= items.Current.EventType == SseParser.EventTypeDefault;
            if (sawEvent && items.Current.EventType == "heartbeat")
            {
                break;
            }
        }

        Assert.Equal("welcome", read[0].EventType);
        Assert.Equal(published.Id, Assert.Single(read, item => item.EventType == SseParser.EventTypeDefault).EventId);
        using (var heartbeat = JsonDocument.Parse(read[^1].Data))
        {
            Assert.Equal(published.Id, heartbeat.RootElement.GetProperty("head").GetString());
        }

        // What a reconnecting EventSource would send is still the event's id, and resuming from it loses nothing.
        Assert.Equal(published.Id, parser.LastEventId);
        var (resumed, resumedItems) = await client.OpenSseAsync("/api/sse", cancellationToken, lastEventId: parser.LastEventId);
        using var _ = resumed;
        await AssertReadsExactlyAsync(client, resumedItems, [], cancellationToken);
    }

    [Fact]
    public async Task ResumesFromMidStreamCursorWithoutDuplicates()
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();
        var published = await client.PublishManyAsync(10, cancellationToken);

        var (response, items) = await client.OpenSseAsync($"/api/sse?after={published[3].Id}", cancellationToken);
        using var _ = response;

        await AssertReadsExactlyAsync(client, items, published[4..], cancellationToken);
    }

    [Fact]
    public async Task ResumesFromLastEventIdWithoutDuplicates()
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();
        var published = await client.PublishManyAsync(10, cancellationToken);

        var (response, items) = await client.OpenSseAsync("/api/sse", cancellationToken, lastEventId: published[3].Id);
        using var _ = response;

        await AssertReadsExactlyAsync(client, items, published[4..], cancellationToken);
    }

    [Fact]
    public async Task LastEventIdWinsOverAfter()
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();
        var published = await client.PublishManyAsync(10, cancellationToken);

        // The URL is where the browser first opened the stream; the header is where it actually stands.
        var (response, items) = await client.OpenSseAsync($"/api/sse?after={published[0].Id}", cancellationToken, lastEventId: published[7].Id);
        using var _ = response;

        await AssertReadsExactlyAsync(client, items, published[8..], cancellationToken);
    }

    [Fact]
    public async Task TooOldCursorSendsGapEventThenOldestRetained()
    {
        // The smallest ring: 40 events push the first 24 out.
        await using var app = new RealtimeDemoApplication(new Dictionary<string, string?> { ["Realtime:Retention"] = "16" });
        var cancellationToken = TestClients.Deadline();
        var client = app.CreateClient();
        var published = await client.PublishManyAsync(40, cancellationToken);

        var (response, items) = await client.OpenSseAsync($"/api/sse?after={published[0].Id}", cancellationToken);
        using var _ = response;
        var read = await items.ReadSseAsync(16);

        AssertGap(read[0], "expired");
        Assert.Equal(Enumerable.Range(25, 16).Select(seq => (long)seq), read.Skip(1).Select(item => item.ToEvent().Seq));
    }

    [Fact]
    public async Task ForeignEpochCursorSendsEpochChangedGap()
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();
        var published = await client.PublishManyAsync(3, cancellationToken);

        var (response, items) = await client.OpenSseAsync($"/api/sse?after={TestClients.ForeignCursor}", cancellationToken);
        using var _ = response;
        var read = await items.ReadSseAsync(3);

        AssertGap(read[0], "epoch-changed");
        Assert.Equal(published.Select(e => e.Id), read.Skip(1).Select(item => item.ToEvent().Id));
    }

    [Fact]
    public async Task ForeignEpochLastEventIdSendsEpochChangedGap()
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();
        var published = await client.PublishManyAsync(3, cancellationToken);

        var (response, items) = await client.OpenSseAsync("/api/sse", cancellationToken, lastEventId: TestClients.ForeignCursor);
        using var _ = response;
        var read = await items.ReadSseAsync(3);

        AssertGap(read[0], "epoch-changed");
        Assert.Equal(published.Select(e => e.Id), read.Skip(1).Select(item => item.ToEvent().Id));
    }

    [Theory]
    [InlineData("expired")]
    [InlineData("epoch-changed")]
    public async Task GapFrameCarriesItsCursorAsItsIdAndTheStreamsEpoch(string reason)
    {
        // The smallest ring: 40 events push the first 24 out, so the stream continues after seq 24 either way.
        await using var app = new RealtimeDemoApplication(new Dictionary<string, string?> { ["Realtime:Retention"] = "16" });
        var cancellationToken = TestClients.Deadline();
        var client = app.CreateClient();
        var published = await client.PublishManyAsync(40, cancellationToken);
        var epoch = await StreamEpochAsync(client, cancellationToken);
        var after = reason == "expired" ? published[0].Id : TestClients.ForeignCursor;

        using var response = await client.GetAsync($"/api/sse?after={after}", HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        using var lines = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
        var read = await ReadLinesAsync(lines, 10, cancellationToken);

        // The raw frame, as a browser's EventSource parses it: its id is where the stream continues. (Lines 2-4 are
        // the welcome.)
        var resumeFrom = published[23].Id;
        Assert.Equal(["retry: 500", "", "event: welcome"], read[..3]);
        Assert.Equal([$"id: {resumeFrom}", "event: gap"], read[5..7]);
        Assert.StartsWith("data: ", read[7], StringComparison.Ordinal);
        Assert.Equal(["", $"id: {published[24].Id}"], read[8..]);
        using var gap = JsonDocument.Parse(read[7]["data: ".Length..]);
        Assert.Equal("gap", gap.RootElement.GetProperty("control").GetString());
        Assert.Equal(reason, gap.RootElement.GetProperty("reason").GetString());
        Assert.Equal(epoch, gap.RootElement.GetProperty("epoch").GetString());
        Assert.Equal(resumeFrom, gap.RootElement.GetProperty("cursor").GetString());

        // Resuming from the gap's id, as EventSource does, is not told of the same gap again.
        var (resumed, items) = await client.OpenSseAsync("/api/sse", cancellationToken, lastEventId: resumeFrom);
        using var _ = resumed;
        await AssertReadsExactlyAsync(client, items, published[24..], cancellationToken);
    }

    [Fact]
    public async Task EmptyLastEventIdFallsBackToAfter()
    {
        // Over real sockets: the in-memory test server drops a header with an empty value before the host sees it.
        await using var app = new KestrelApplication();
        var cancellationToken = TestClients.Deadline();
        using var client = app.CreateSocketClient();
        var published = await client.PublishManyAsync(10, cancellationToken);

        var (response, items) = await client.OpenSseAsync($"/api/sse?after={published[3].Id}", cancellationToken, lastEventId: "");
        using var _ = response;

        await AssertReadsExactlyAsync(client, items, published[4..], cancellationToken);
    }

    [Fact]
    public async Task EmptyAfterStartsFromNowWithoutHistory()
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();
        await client.PublishManyAsync(3, cancellationToken);

        var (response, items) = await client.OpenSseAsync("/api/sse?after=", cancellationToken);
        using var _ = response;

        // Nothing already published comes: the first event is the one published next.
        await AssertReadsExactlyAsync(client, items, [], cancellationToken);
    }

    [Theory]
    [InlineData("bad")]
    [InlineData("abc-")]
    [InlineData("ABC-1")]
    public async Task MalformedAfterIsRefusedNamingAfter(string after)
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();

        using var response = await client.GetAsync($"/api/sse?after={Uri.EscapeDataString(after)}", HttpCompletionOption.ResponseHeadersRead, cancellationToken);

        await response.AssertInvalidAsync("after", cancellationToken);
    }

    [Fact]
    public async Task MalformedLastEventIdIsRefusedNamingTheHeader()
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();
        var head = await client.HeadCursorAsync(cancellationToken);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/sse?after={head}");
        request.Headers.Add("Last-Event-ID", "bad");

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);

        await response.AssertInvalidAsync("Last-Event-ID", cancellationToken);
    }

    [Fact]
    public async Task CursorAheadOfHeadIsRefused()
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();
        var published = await client.PublishManyAsync(2, cancellationToken);
        var epoch = published[0].Id[..published[0].Id.LastIndexOf('-')];

        using var response = await client.GetAsync($"/api/sse?after={epoch}-3", HttpCompletionOption.ResponseHeadersRead, cancellationToken);

        await response.AssertInvalidAsync("after", cancellationToken);
    }

    [Fact]
    public async Task EventIdsEqualTheJsonId()
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();
        var head = await client.HeadCursorAsync(cancellationToken);

        var (response, items) = await client.OpenSseAsync($"/api/sse?after={head}", cancellationToken);
        using var _ = response;
        var published = await client.PublishManyAsync(5, cancellationToken);
        var read = await items.ReadSseAsync(5);

        Assert.All(read, item => Assert.Equal(SseParser.EventTypeDefault, item.EventType));
        Assert.Equal(published.Select(e => e.Id), read.Select(item => item.EventId));
        Assert.All(read, item => Assert.Equal(item.EventId, item.ToEvent().Id));
    }

    /// <summary>
    /// Reads the expected events, then publishes one more and requires it to come next:
    /// nothing extra (no duplicate, no stray event) may sit between them.
    /// </summary>
    private static async Task AssertReadsExactlyAsync(
        HttpClient client, IAsyncEnumerator<SseItem<string>> items, IReadOnlyList<WireEvent> expected, CancellationToken cancellationToken)
    {
        var read = await items.ReadSseAsync(expected.Count);
        Assert.All(read, item => Assert.Equal(SseParser.EventTypeDefault, item.EventType));
        Assert.Equal(expected.Select(e => (e.Id, e.Seq)), read.Select(item => item.ToEvent()).Select(e => (e.Id, e.Seq)));

        var sentinel = await client.PublishAsync("sentinel", new { }, cancellationToken);
        var next = Assert.Single(await items.ReadSseAsync(1));
        Assert.Equal(sentinel.Id, next.ToEvent().Id);
    }

    private static async Task<List<string>> ReadLinesAsync(StreamReader lines, int count, CancellationToken cancellationToken)
    {
        var read = new List<string>(count);
        while (read.Count < count)
        {
            read.Add(await lines.ReadLineAsync(cancellationToken) ?? throw new InvalidOperationException("The stream ended."));
        }

        return read;
    }

    private static async Task<string> StreamEpochAsync(HttpClient client, CancellationToken cancellationToken)
    {
        using var stats = JsonDocument.Parse(await client.GetStringAsync("/api/stats", cancellationToken));
        return stats.RootElement.GetProperty("epoch").GetString()!;
    }

    private static void AssertGap(SseItem<string> item, string reason)
    {
        Assert.Equal("gap", item.EventType);
        using var gap = JsonDocument.Parse(item.Data);
        Assert.Equal("gap", gap.RootElement.GetProperty("control").GetString());
        Assert.Equal(reason, gap.RootElement.GetProperty("reason").GetString());
    }
}
