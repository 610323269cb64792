using System.Net.ServerSentEvents;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Transports;

/// <summary>
/// A reader token's expiry on the long-lived transports: nothing is delivered past it. The host's clock moves only when
/// a test moves it, so each expiry is placed exactly; readers are signed in by <see cref="TestReaders"/>.
/// </summary>
public sealed class TokenExpiryTests : IAsyncDisposable
{
    // Whole seconds, as a token's exp is.
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
    private readonly RealtimeDemoApplication _app;

    public TokenExpiryTests()
    {
        _app = new RealtimeDemoApplication(services: services =>
        {
            services.AddSingleton<TimeProvider>(_time);
            TestReaders.Register(services, _time);
        });
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private DateTimeOffset In(int seconds) => _time.GetUtcNow().AddSeconds(seconds);

    private HttpClient SignedInClient(string token)
    {
        var client = _app.CreateClient();
        client.DefaultRequestHeaders.Add(TestReaders.Header, token);
        return client;
    }

    [Fact]
    public async Task SseStreamEndsAtTheTokensExpiryWithAnExpiredEventAndNothingAfterIt()
    {
        var cancellationToken = TestClients.Deadline();
        var expiresAt = In(10);
        var client = SignedInClient(TestReaders.Token("ada", expiresAt));
        var (response, items) = await client.OpenSseAsync("/api/sse", cancellationToken);
        using var _ = response;

        var before = await client.PublishAsync("test", new { n = 1 }, cancellationToken);
        Assert.Equal(before.Id, Assert.Single(await items.ReadSseAsync(1)).EventId);

        _time.Advance(TimeSpan.FromSeconds(10));
        var after = await client.PublishAsync("test", new { n = 2 }, cancellationToken);

        // The stream ends (the enumeration completes) after the expired event, without the event published after it.
        var rest = new List<SseItem<string>>();
        while (await items.MoveNextAsync())
        {
            rest.Add(items.Current);
        }

        var expired = Assert.Single(rest, item => item.EventType != "heartbeat");
        Assert.Equal("expired", expired.EventType);
        Assert.Null(expired.EventId);
        Assert.Equal($$"""{"control":"expired","expiresAt":"{{StoredEvent.FormatTime(expiresAt)}}"}""", expired.Data);
        Assert.DoesNotContain(rest, item => item.Data.Contains(after.Id, StringComparison.Ordinal));
    }

    [Fact]
    public async Task SseResumedWithAFreshTokenGetsExactlyTheEventsAfterTheLastIdBeforeExpiry()
    {
        var cancellationToken = TestClients.Deadline();
        var first = SignedInClient(TestReaders.Token("ada", In(10)));
        var (response, items) = await first.OpenSseAsync("/api/sse", cancellationToken);
        List<WireEvent> before;
        using (response)
        {
            before = await first.PublishManyAsync(3, cancellationToken);
            var received = (await items.ReadSseAsync(3)).Select(item => item.ToEvent().Id).ToList();
            Assert.Equal(before.Select(e => e.Id), received);

            _time.Advance(TimeSpan.FromSeconds(10));
            while (await items.MoveNextAsync())
            {
            }
        }

        // Published while signed out; the client signs in again and resumes where its last id says.
        var missed = await first.PublishManyAsync(2, cancellationToken);
        var second = SignedInClient(TestReaders.Token("ada", In(60)));
        var (resumed, resumedItems) = await second.OpenSseAsync("/api/sse", cancellationToken, lastEventId: before[^1].Id);
        using var _ = resumed;

        var read = await resumedItems.ReadSseAsync(2);
        Assert.Equal(missed.Select(e => e.Id), read.Select(item => item.ToEvent().Id));
    }

    [Fact]
    public async Task WebSocketClosesWith4401AtTheTokensExpiryAndSendsNothingAfterIt()
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();
        using var socket = await _app.ConnectSignedInAsync(TestReaders.Token("ada", In(10)), cancellationToken);

        var before = await client.PublishAsync("test", new { n = 1 }, cancellationToken);
        Assert.Equal(before.Id, (await socket.ReceiveEventsAsync(1, cancellationToken))[0].Id);

        _time.Advance(TimeSpan.FromSeconds(10));
        var after = await client.PublishAsync("test", new { n = 2 }, cancellationToken);

        await socket.ExpectClosedAtExpiryAsync(after.Id, cancellationToken);
    }

    [Fact]
    public async Task WebSocketRefreshedInPlaceStaysOpenPastTheOldExpiryAndClosesAtTheNewOne()
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();
        using var socket = await _app.ConnectSignedInAsync(TestReaders.Token("ada", In(10)), cancellationToken);

        var renewedTo = In(30);
        var answer = await socket.RefreshAsync(TestReaders.Token("ada", renewedTo), cancellationToken);
        Assert.Equal($$"""{"control":"refreshed","expiresAt":"{{StoredEvent.FormatTime(renewedTo)}}"}""", answer.GetRawText());

        // Past the old expiry, the stream flows on.
        _time.Advance(TimeSpan.FromSeconds(15));
        var during = await client.PublishAsync("test", new { n = 1 }, cancellationToken);
        Assert.Equal(during.Id, (await socket.ReceiveEventsWithoutGapAsync(1, cancellationToken))[0].Id);

        // At the new one it closes, with nothing after it.
        _time.Advance(TimeSpan.FromSeconds(15));
        await client.PublishAsync("test", new { n = 2 }, cancellationToken);
        Assert.Null(await socket.ReceiveJsonAsync(cancellationToken));
        Assert.Equal(4401, (int?)socket.CloseStatus);
    }

    [Theory]
    [InlineData("forged")]
    [InlineData("expired")]
    [InlineData("another name")]
    public async Task WebSocketRefreshWithABadTokenEarnsAnErrorFrameAndTheOldExpiryStands(string kind)
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();
        using var socket = await _app.ConnectSignedInAsync(TestReaders.Token("ada", In(10)), cancellationToken);

        var token = kind switch
        {
            "forged" => "ada;not-a-signed-token;x",
            "expired" => TestReaders.Token("ada", In(-1)),
            _ => TestReaders.Token("bob", In(30)),
        };
        var answer = await socket.RefreshAsync(token, cancellationToken);
        Assert.Equal("error", answer.GetProperty("control").GetString());
        Assert.Equal("token", answer.GetProperty("field").GetString());
        Assert.False(string.IsNullOrEmpty(answer.GetProperty("message").GetString()));

        // Still open, and still bound to the first token's expiry.
        _time.Advance(TimeSpan.FromSeconds(9));
        var during = await client.PublishAsync("test", new { n = 1 }, cancellationToken);
        Assert.Equal(during.Id, (await socket.ReceiveEventsWithoutGapAsync(1, cancellationToken))[0].Id);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(await socket.ReceiveJsonAsync(cancellationToken));
        Assert.Equal(4401, (int?)socket.CloseStatus);
    }

    [Fact]
    public async Task WebSocketRefreshWithoutAReaderTokenIsAnUnknownMessageType()
    {
        var cancellationToken = TestClients.Deadline();
        var (socket, _) = await _app.ConnectWelcomedAsync("", cancellationToken);
        using var __ = socket;

        var answer = await socket.RefreshAsync(TestReaders.Token("ada", In(30)), cancellationToken);
        Assert.Equal("error", answer.GetProperty("control").GetString());
        Assert.Equal("type", answer.GetProperty("field").GetString());
    }

    [Fact]
    public async Task HeldLongPollAnswersEmptyWithItsCursorAtTheTokensExpiry()
    {
        var cancellationToken = TestClients.Deadline();
        var client = SignedInClient(TestReaders.Token("ada", In(3)));
        var head = await client.HeadCursorAsync(cancellationToken);

        // Held for up to 20 s, but the token lasts 3.
        var poll = client.PollAsync($"/api/longpoll?after={head}&timeout=20", cancellationToken);
        await client.WaitForOpenConnectionsAsync("long-poll", 1, cancellationToken);
        _time.Advance(TimeSpan.FromSeconds(3));

        var body = await poll;
        Assert.Empty(body.Events);
        Assert.False(body.Gap);
        Assert.Equal(head, body.Cursor);
    }
}
