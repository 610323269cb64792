using System.Diagnostics;
using System.Net.Http.Json;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Transports;

/// <summary><c>GET /api/longpoll</c>: held until an event exists after the cursor or the timeout passes.</summary>
public sealed class LongPollTests : IAsyncLifetime
{
    // 'z' never appears in the hex epochs this host draws, so the cursor is always foreign.
    private const string ForeignCursor = "zzzzzzzzzzzz-3";

    private readonly RealtimeDemoApplication _app = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    [Fact]
    public async Task ResumesFromMidStreamCursorWithoutDuplicates()
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();
        var published = await client.PublishManyAsync(10, cancellationToken);

        var body = await client.PollAsync($"/api/longpoll?after={published[3].Id}&timeout=1", cancellationToken);

        Assert.False(body.Gap);
        Assert.Equal(published[4..].Select(e => (e.Id, e.Seq)), body.Events.Select(e => (e.Id, e.Seq)));
        Assert.Equal(published[^1].Id, body.Cursor);
    }

    [Fact]
    public async Task TooOldCursorReportsGapThenOldestRetained()
    {
        // The smallest ring: 40 events push the first 24 out.
        await using var app = new RealtimeDemoApplication(new Dictionary<string, string?> { ["Realtime:Retention"] = "16" });
        var cancellationToken = TestClients.Deadline();
        var client = app.CreateClient();
        var published = await client.PublishManyAsync(40, cancellationToken);

        var body = await client.PollAsync($"/api/longpoll?after={published[0].Id}&timeout=1", cancellationToken);

        Assert.True(body.Gap);
        Assert.Equal(Enumerable.Range(25, 16).Select(seq => (long)seq), body.Events.Select(e => e.Seq));
        Assert.Equal(published[^1].Id, body.Cursor);
    }

    [Fact]
    public async Task ForeignEpochCursorReportsGapThenOldestRetained()
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();
        var published = await client.PublishManyAsync(3, cancellationToken);

        var body = await client.PollAsync($"/api/longpoll?after={ForeignCursor}&timeout=1", cancellationToken);

        Assert.True(body.Gap);
        Assert.Equal(published.Select(e => e.Id), body.Events.Select(e => e.Id));
    }

    [Fact]
    public async Task ForeignEpochCursorOnEmptyStreamReportsGapAtOnce()
    {
        var cancellationToken = TestClients.Deadline(10);
        var client = _app.CreateClient();

        // Held for the full 30 s would mean the gap waited for an event; the 10 s deadline catches that.
        var body = await client.PollAsync($"/api/longpoll?after={ForeignCursor}&timeout=30", cancellationToken);

        Assert.True(body.Gap);
        Assert.Empty(body.Events);
        Assert.Equal(await client.HeadCursorAsync(cancellationToken), body.Cursor);
    }

    [Theory]
    [InlineData("bad")]
    [InlineData("abc-")]
    [InlineData("ABC-1")]
    [InlineData("abc-01")]
    public async Task MalformedCursorIsRefusedNamingAfter(string after)
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();

        using var response = await client.GetAsync($"/api/longpoll?after={Uri.EscapeDataString(after)}&timeout=1", cancellationToken);

        await response.AssertInvalidAsync("after", cancellationToken);
    }

    [Fact]
    public async Task CursorAheadOfHeadIsRefused()
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();
        var head = await client.HeadCursorAsync(cancellationToken);
        var epoch = head[..head.LastIndexOf('-')];

        using var response = await client.GetAsync($"/api/longpoll?after={epoch}-1&timeout=1", cancellationToken);

        await response.AssertInvalidAsync("after", cancellationToken);
    }

    [Fact]
    public async Task HeldPollReturnsAsSoonAsAnEventIsPublished()
    {
        var cancellationToken = TestClients.Deadline(10);
        var client = _app.CreateClient();
        var head = await client.HeadCursorAsync(cancellationToken);

        var polling = client.PollAsync($"/api/longpoll?after={head}&timeout=30", cancellationToken);
        await client.WaitForOpenConnectionsAsync("long-poll", 1, cancellationToken);
        Assert.False(polling.IsCompleted, "The poll answered before anything was published.");

        var published = await client.PublishAsync("chat", new { text = "hi" }, cancellationToken);

        // Well inside the 30 s timeout: the 10 s deadline fails the test if the poll waits it out.
        var body = await polling;
        Assert.False(body.Gap);
        Assert.Equal(published.Id, Assert.Single(body.Events).Id);
        Assert.Equal(published.Id, body.Cursor);
    }

    [Fact]
    public async Task IdlePollReturnsEmptyAtItsTimeoutWithTheSameCursor()
    {
        var cancellationToken = TestClients.Deadline(10);
        var client = _app.CreateClient();
        var head = await client.HeadCursorAsync(cancellationToken);
        var clock = Stopwatch.StartNew();

        var body = await client.PollAsync($"/api/longpoll?after={head}&timeout=1", cancellationToken);

        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(900), $"Answered after {clock.Elapsed}, before the 1 s timeout.");
        Assert.Empty(body.Events);
        Assert.False(body.Gap);
        Assert.Equal(head, body.Cursor);
    }

    [Fact]
    public async Task TimeoutAboveTheCapIsCutToTheCap()
    {
        // A 1 s cap makes the cut observable: asked for 1000 s, the poll must answer after about 1 s.
        await using var app = new RealtimeDemoApplication(new Dictionary<string, string?>
        {
            ["Realtime:LongPollTimeout"] = "00:00:01",
            ["Realtime:LongPollMaxTimeout"] = "00:00:01",
        });
        var cancellationToken = TestClients.Deadline(10);
        var client = app.CreateClient();
        var head = await client.HeadCursorAsync(cancellationToken);

        var body = await client.PollAsync($"/api/longpoll?after={head}&timeout=1000", cancellationToken);

        Assert.Empty(body.Events);
        Assert.Equal(head, body.Cursor);
    }

    [Fact]
    public async Task TimeoutAboveTheCapIsAccepted()
    {
        var cancellationToken = TestClients.Deadline(10);
        var client = _app.CreateClient();
        var head = await client.HeadCursorAsync(cancellationToken);

        var polling = client.PollAsync($"/api/longpoll?after={head}&timeout=1000", cancellationToken);
        await client.WaitForOpenConnectionsAsync("long-poll", 1, cancellationToken);
        var published = await client.PublishAsync("chat", new { text = "hi" }, cancellationToken);

        Assert.Equal(published.Id, Assert.Single((await polling).Events).Id);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    public async Task InvalidTimeoutIsRefusedNamingTimeout(string timeout)
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();

        using var response = await client.GetAsync($"/api/longpoll?timeout={Uri.EscapeDataString(timeout)}", cancellationToken);

        await response.AssertInvalidAsync("timeout", cancellationToken);
    }

    [Fact]
    public async Task ClientAbortFreesTheHeldRequest()
    {
        var cancellationToken = TestClients.Deadline(10);
        var client = _app.CreateClient();
        var head = await client.HeadCursorAsync(cancellationToken);
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        var polling = client.GetAsync($"/api/longpoll?after={head}&timeout=30", abort.Token);
        await client.WaitForOpenConnectionsAsync("long-poll", 1, cancellationToken);
        await abort.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => polling);
        await client.WaitForOpenConnectionsAsync("long-poll", 0, cancellationToken);
    }

    [Fact]
    public async Task AnswerIsNotCached()
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();

        using var response = await client.GetAsync("/api/longpoll?timeout=0", cancellationToken);

        Assert.True(response.Headers.CacheControl?.NoStore, "A poll answer must not be cached.");
        var body = (await response.Content.ReadFromJsonAsync<PollBody>(TestClients.Json, cancellationToken))!;
        Assert.Empty(body.Events);
    }
}
