using System.Diagnostics;
using System.Net.Http.Json;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Transports;

/// <summary><c>GET /api/longpoll</c>: held until an event exists after the cursor or the timeout passes.</summary>
/// <remarks>The shared contract polls with <c>timeout=1</c>: its one poll that finds nothing (after the head, on resume) answers after 1 s.</remarks>
public sealed class LongPollTests() : PollTransportTests("/api/longpoll", "timeout=1")
{
    [Fact]
    public async Task ForeignEpochCursorOnEmptyStreamReportsGapAtOnce()
    {
        var cancellationToken = TestClients.Deadline();
        var client = App.CreateClient();

        // Held for the full 30 s would mean the gap waited for an event; the 10 s deadline catches that.
        var body = await client.PollAsync($"/api/longpoll?after={TestClients.ForeignCursor}&timeout=30", cancellationToken);

        Assert.True(body.Gap);
        Assert.Empty(body.Events);
        Assert.Equal(await client.HeadCursorAsync(cancellationToken), body.Cursor);
    }

    [Fact]
    public async Task HeldPollReturnsAsSoonAsAnEventIsPublished()
    {
        var cancellationToken = TestClients.Deadline();
        var client = App.CreateClient();
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
        var cancellationToken = TestClients.Deadline();
        var client = App.CreateClient();
        var head = await client.HeadCursorAsync(cancellationToken);
        var clock = Stopwatch.StartNew();

        var body = await client.PollAsync($"/api/longpoll?after={head}&timeout=1", cancellationToken);

        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(900), $"Answered after {clock.Elapsed}, before the 1 s timeout.");
        Assert.Empty(body.Events);
        Assert.False(body.Gap);
        Assert.Equal(head, body.Cursor);
    }

    [Theory]
    [InlineData("")]
    [InlineData("&timeout=")]
    public async Task WithoutATimeoutThePollIsHeldForTheConfiguredDefault(string timeout)
    {
        // A 2 s default: long enough to publish into, far from both 0 (answer at once) and the 25 s of appsettings.json
        // or the 60 s cap, which the 10 s deadline would not wait out.
        var hold = TimeSpan.FromSeconds(2);
        await using var app = new RealtimeDemoApplication(new Dictionary<string, string?> { ["Realtime:LongPollTimeout"] = hold.ToString() });
        var cancellationToken = TestClients.Deadline();
        var client = app.CreateClient();
        var head = await client.HeadCursorAsync(cancellationToken);

        // Held: an event published while the poll waits is its answer.
        var polling = client.PollAsync($"/api/longpoll?after={head}{timeout}", cancellationToken);
        var held = client.WaitForOpenConnectionsAsync("long-poll", 1, cancellationToken);
        Assert.True(await Task.WhenAny(held, polling) == held, "The poll answered before anything was published.");
        await held;
        var published = await client.PublishAsync("chat", new { text = "hi" }, cancellationToken);
        var body = await polling;
        Assert.Equal(published.Id, Assert.Single(body.Events).Id);

        // With nothing published, the answer is empty, and comes after the hold, not at once.
        var clock = Stopwatch.StartNew();
        body = await client.PollAsync($"/api/longpoll?after={published.Id}{timeout}", cancellationToken);
        Assert.True(
            clock.Elapsed >= hold - TimeSpan.FromMilliseconds(100),
            $"Answered after {clock.Elapsed}, before the {hold.TotalSeconds} s default.");
        Assert.Empty(body.Events);
        Assert.False(body.Gap);
        Assert.Equal(published.Id, body.Cursor);
    }

    /// <summary>Timeouts above the cap, up to numbers no integer or floating-point type holds.</summary>
    public static TheoryData<string> TimeoutsAboveTheCap => new() { "1000", "1000000", new string('9', 300), "1" + new string('0', 400) };

    [Theory]
    [MemberData(nameof(TimeoutsAboveTheCap))]
    public async Task TimeoutAboveTheCapIsCutToTheCap(string timeout)
    {
        // A 1 s cap makes the cut observable: asked for far longer, the poll must be held about 1 s and answer empty.
        // The default hold is far shorter, so a timeout that fell back to it cannot pass for the cap.
        var cap = TimeSpan.FromSeconds(1);
        await using var app = new RealtimeDemoApplication(new Dictionary<string, string?>
        {
            ["Realtime:LongPollTimeout"] = TimeSpan.FromMilliseconds(100).ToString(),
            ["Realtime:LongPollMaxTimeout"] = cap.ToString(),
        });
        var cancellationToken = TestClients.Deadline();
        var client = app.CreateClient();
        var head = await client.HeadCursorAsync(cancellationToken);
        var clock = Stopwatch.StartNew();

        // Nothing is published: only the cap can end the hold, and the 10 s deadline fails a poll it did not cut.
        var body = await client.PollAsync($"/api/longpoll?after={head}&timeout={timeout}", cancellationToken);

        // Held, not answered at once: a timeout read as 0 (an overflow) would answer empty too.
        Assert.True(clock.Elapsed >= cap - TimeSpan.FromMilliseconds(100), $"Answered after {clock.Elapsed}, before the {cap.TotalSeconds} s cap.");
        Assert.Empty(body.Events);
        Assert.False(body.Gap);
        Assert.Equal(head, body.Cursor);
    }

    [Fact]
    public async Task TimeoutAboveTheCapIsAccepted()
    {
        var cancellationToken = TestClients.Deadline();
        var client = App.CreateClient();
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
        var client = App.CreateClient();

        using var response = await client.GetAsync($"/api/longpoll?timeout={Uri.EscapeDataString(timeout)}", cancellationToken);

        await response.AssertInvalidAsync("timeout", cancellationToken);
    }

    [Fact]
    public async Task ClientAbortFreesTheHeldRequest()
    {
        var cancellationToken = TestClients.Deadline();
        var client = App.CreateClient();
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
        var client = App.CreateClient();

        using var response = await client.GetAsync("/api/longpoll?timeout=0", cancellationToken);

        Assert.True(response.Headers.CacheControl?.NoStore, "A poll answer must not be cached.");
        var body = (await response.Content.ReadFromJsonAsync<PollBody>(TestClients.Json, cancellationToken))!;
        Assert.Empty(body.Events);
    }
}
