using System.Net;
using System.Net.Http.Json;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Transports;

/// <summary><c>GET /api/poll</c>: answers at once with what lies after the cursor.</summary>
public sealed class ShortPollTests : IAsyncLifetime
{
    // 'z' never appears in the hex epochs this host draws, so the cursor is always foreign.
    private const string ForeignCursor = "zzzzzzzzzzzz-3";

    private readonly RealtimeDemoApplication _app = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    [Fact]
    public async Task WithoutAfterStartsFromNowWithoutHistory()
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();
        var published = await client.PublishManyAsync(3, cancellationToken);

        using var response = await client.GetAsync("/api/poll", cancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Headers.CacheControl?.NoStore, "A poll answer must not be cached.");
        var body = (await response.Content.ReadFromJsonAsync<PollBody>(TestClients.Json, cancellationToken))!;
        Assert.Empty(body.Events);
        Assert.False(body.Gap);
        Assert.Equal(published[^1].Id, body.Cursor);
    }

    [Fact]
    public async Task ResumesFromMidStreamCursorWithoutDuplicates()
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();
        var published = await client.PublishManyAsync(10, cancellationToken);

        var body = await client.PollAsync($"/api/poll?after={published[3].Id}", cancellationToken);

        Assert.False(body.Gap);
        Assert.Equal(published[4..].Select(e => (e.Id, e.Seq)), body.Events.Select(e => (e.Id, e.Seq)));
        Assert.Equal(published[^1].Id, body.Cursor);
        Assert.Empty((await client.PollAsync($"/api/poll?after={body.Cursor}", cancellationToken)).Events);
    }

    [Fact]
    public async Task TooOldCursorReportsGapThenOldestRetained()
    {
        // The smallest ring: 40 events push the first 24 out.
        await using var app = new RealtimeDemoApplication(new Dictionary<string, string?> { ["Realtime:Retention"] = "16" });
        var cancellationToken = TestClients.Deadline();
        var client = app.CreateClient();
        var published = await client.PublishManyAsync(40, cancellationToken);

        var body = await client.PollAsync($"/api/poll?after={published[0].Id}", cancellationToken);

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

        var body = await client.PollAsync($"/api/poll?after={ForeignCursor}", cancellationToken);

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
        var client = _app.CreateClient();

        using var response = await client.GetAsync($"/api/poll?after={Uri.EscapeDataString(after)}", cancellationToken);

        await response.AssertInvalidAsync("after", cancellationToken);
    }

    [Fact]
    public async Task CursorAheadOfHeadIsRefused()
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();
        var published = await client.PublishManyAsync(2, cancellationToken);
        var epoch = published[0].Id[..published[0].Id.LastIndexOf('-')];

        using var response = await client.GetAsync($"/api/poll?after={epoch}-3", cancellationToken);

        await response.AssertInvalidAsync("after", cancellationToken);
    }
}
