using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Transports;

/// <summary>
/// The cursor contract both poll endpoints share: resume after a cursor, report a gap for a cursor the ring
/// no longer holds or another epoch drew, refuse a malformed cursor or one ahead of the head.
/// </summary>
/// <param name="path">The endpoint, e.g. <c>/api/poll</c>.</param>
/// <param name="query">Parameters every poll of this endpoint sends besides <c>after</c>, e.g. <c>timeout=1</c>.</param>
public abstract class PollTransportTests(string path, params string[] query) : IAsyncDisposable
{
    protected RealtimeDemoApplication App { get; } = new();

    public ValueTask DisposeAsync() => App.DisposeAsync();

    /// <summary>The request for one poll after <paramref name="after"/> (escaped here), or "from now" when null.</summary>
    protected string Url(string? after)
    {
        string[] parameters = after is null ? query : [$"after={Uri.EscapeDataString(after)}", .. query];
        return parameters.Length == 0 ? path : $"{path}?{string.Join('&', parameters)}";
    }

    [Fact]
    public async Task ResumesFromMidStreamCursorWithoutDuplicates()
    {
        var cancellationToken = TestClients.Deadline();
        var client = App.CreateClient();
        var published = await client.PublishManyAsync(10, cancellationToken);

        var body = await client.PollAsync(Url(published[3].Id), cancellationToken);

        Assert.False(body.Gap);
        Assert.Equal(published[4..].Select(e => (e.Id, e.Seq)), body.Events.Select(e => (e.Id, e.Seq)));
        Assert.Equal(published[^1].Id, body.Cursor);
        Assert.Empty((await client.PollAsync(Url(body.Cursor), cancellationToken)).Events);
    }

    [Fact]
    public async Task EmptyAfterStartsFromNowWithoutHistory()
    {
        var cancellationToken = TestClients.Deadline();
        var client = App.CreateClient();
        var published = await client.PublishManyAsync(3, cancellationToken);

        // "after=" is no cursor at all, not a malformed one: the same as leaving it out.
        var body = await client.PollAsync(Url(""), cancellationToken);

        Assert.Empty(body.Events);
        Assert.False(body.Gap);
        Assert.Equal(published[^1].Id, body.Cursor);
    }

    [Fact]
    public async Task AnswersWithEventsAGapOrNothingAreNeverCached()
    {
        var cancellationToken = TestClients.Deadline();
        var client = App.CreateClient();
        var published = await client.PublishManyAsync(3, cancellationToken);

        // Events, then a gap, then nothing (the long poll's one held answer, after its timeout=1).
        foreach (var after in new[] { published[0].Id, TestClients.ForeignCursor, published[^1].Id })
        {
            using var response = await client.GetAsync(Url(after), cancellationToken);

            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
            Assert.True(response.Headers.CacheControl?.NoStore, $"The answer after {after} may be cached.");
        }
    }

    [Fact]
    public async Task TooOldCursorReportsGapThenOldestRetained()
    {
        // The smallest ring: 40 events push the first 24 out.
        await using var app = new RealtimeDemoApplication(new Dictionary<string, string?> { ["Realtime:Retention"] = "16" });
        var cancellationToken = TestClients.Deadline();
        var client = app.CreateClient();
        var published = await client.PublishManyAsync(40, cancellationToken);

        var body = await client.PollAsync(Url(published[0].Id), cancellationToken);

        Assert.True(body.Gap);
        Assert.Equal(Enumerable.Range(25, 16).Select(seq => (long)seq), body.Events.Select(e => e.Seq));
        Assert.Equal(published[^1].Id, body.Cursor);
    }

    [Fact]
    public async Task ForeignEpochCursorReportsGapThenOldestRetained()
    {
        var cancellationToken = TestClients.Deadline();
        var client = App.CreateClient();
        var published = await client.PublishManyAsync(3, cancellationToken);

        var body = await client.PollAsync(Url(TestClients.ForeignCursor), cancellationToken);

        Assert.True(body.Gap);
        Assert.Equal(published.Select(e => e.Id), body.Events.Select(e => e.Id));
        Assert.Equal(published[^1].Id, body.Cursor);
    }

    [Theory]
    [InlineData("bad")]
    [InlineData("abc-")]
    [InlineData("-5")]
    [InlineData("ABC-1")]
    [InlineData("abc-01")]
    [InlineData("abc--1")]
    public async Task MalformedCursorIsRefusedNamingAfter(string after)
    {
        var cancellationToken = TestClients.Deadline();
        var client = App.CreateClient();

        using var response = await client.GetAsync(Url(after), cancellationToken);

        await response.AssertInvalidAsync("after", cancellationToken);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public async Task CursorAheadOfHeadIsRefused(int published)
    {
        var cancellationToken = TestClients.Deadline();
        var client = App.CreateClient();
        await client.PublishManyAsync(published, cancellationToken);
        var head = await client.HeadCursorAsync(cancellationToken);
        var epoch = head[..head.LastIndexOf('-')];

        using var response = await client.GetAsync(Url($"{epoch}-{published + 1}"), cancellationToken);

        await response.AssertInvalidAsync("after", cancellationToken);
    }
}
