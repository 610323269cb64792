using System.Net.ServerSentEvents;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Tokens;

/// <summary>
/// A token's expiry and a WebSocket's in-place refresh along the path a client takes: tokens issued by
/// <c>POST /api/token</c>, checked by the bearer handler (the connection's expiry is the JWT's own <c>exp</c>) and,
/// on a refresh, by the host's validator. Issuing and validating both run on the host's clock, a fake one here that
/// moves only when the test moves it, so every expiry falls exactly where the test says.
/// </summary>
public sealed class RealTokenExpiryTests : IAsyncDisposable
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(30);

    // Whole seconds, as a token's exp is: a token issued now expires exactly Lifetime later.
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
    private readonly RealtimeDemoApplication _app;

    public RealTokenExpiryTests() =>
        _app = new RealtimeDemoApplication(
            TestTokens.Required(("Realtime:TokenLifetime", "00:00:30")),
            services => services.AddSingleton<TimeProvider>(_time));

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    public static TheoryData<string> BadRefreshTokens => ["another name", "another key", "expired", "alg none"];

    [Fact]
    public async Task SseOpenedWithARealTokenEndsAtItsExpWithAnExpiredEventAndNothingAfterIt()
    {
        var cancellationToken = TestClients.Deadline();
        using var client = _app.CreateClient();
        var (token, expiresAt) = await client.SignInAsync("ada", cancellationToken);
        Assert.Equal(_time.GetUtcNow() + Lifetime, expiresAt);
        var (response, items) = await client.OpenSseAsync($"/api/sse?access_token={token}", cancellationToken);
        using var _ = response;

        var before = await PublishAsync(1, cancellationToken);
        Assert.Equal(before, Assert.Single(await items.ReadSseAsync(1)).EventId);

        _time.Advance(Lifetime);
        var after = await PublishAsync(2, cancellationToken);

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
        Assert.DoesNotContain(rest, item => item.Data.Contains(after, StringComparison.Ordinal));
    }

    [Fact]
    public async Task WebSocketOpenedWithARealTokenClosesWith4401AtItsExp()
    {
        var cancellationToken = TestClients.Deadline();
        using var socket = await ConnectAsync("ada", cancellationToken);

        var before = await PublishAsync(1, cancellationToken);
        Assert.Equal(before, (await socket.ReceiveEventsWithoutGapAsync(1, cancellationToken))[0].Id);

        _time.Advance(Lifetime);
        var after = await PublishAsync(2, cancellationToken);

        await socket.ExpectClosedAtExpiryAsync(after, cancellationToken);
    }

    [Fact]
    public async Task WebSocketRefreshedWithANewRealTokenStaysOpenPastTheOldExpAndClosesAtTheNewOne()
    {
        var cancellationToken = TestClients.Deadline();
        using var socket = await ConnectAsync("ada", cancellationToken);

        // Signed in again 10 s later: the new token lasts 10 s longer than the first.
        _time.Advance(TimeSpan.FromSeconds(10));
        using var client = _app.CreateClient();
        var (renewed, renewedTo) = await client.SignInAsync("ada", cancellationToken);
        var answer = await socket.RefreshAsync(renewed, cancellationToken);
        Assert.Equal($$"""{"control":"refreshed","expiresAt":"{{StoredEvent.FormatTime(renewedTo)}}"}""", answer.GetRawText());

        // Past the first token's expiry, the stream flows on.
        _time.Advance(Lifetime - TimeSpan.FromSeconds(5));
        var during = await PublishAsync(1, cancellationToken);
        Assert.Equal(during, (await socket.ReceiveEventsWithoutGapAsync(1, cancellationToken))[0].Id);

        // At the new one it closes, with nothing after it.
        _time.Advance(TimeSpan.FromSeconds(5));
        await PublishAsync(2, cancellationToken);
        Assert.Null(await socket.ReceiveJsonAsync(cancellationToken));
        Assert.Equal(4401, (int?)socket.CloseStatus);
    }

    [Theory]
    [MemberData(nameof(BadRefreshTokens))]
    public async Task WebSocketRefreshWithABadRealOrForgedTokenIsRefusedAndTheOldExpStands(string kind)
    {
        var cancellationToken = TestClients.Deadline();
        using var client = _app.CreateClient();

        // Issued at t0, so expired by the time it is presented; the connection's own token is issued at t0 + 20 s.
        var (early, earlyExpiresAt) = await client.SignInAsync("ada", cancellationToken);
        _time.Advance(TimeSpan.FromSeconds(20));
        using var socket = await ConnectAsync("ada", cancellationToken);
        var expiresAt = _time.GetUtcNow() + Lifetime;
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(earlyExpiresAt, _time.GetUtcNow());

        // Each would outlast the connection's token if it were taken.
        var (token, why) = kind switch
        {
            "another name" => ((await client.SignInAsync("bob", cancellationToken)).Token, "another reader"),
            "another key" => (TestTokens.Forged("ada", _time.GetUtcNow()), "signature"),
            "expired" => (early, "expired"),
            _ => (TestTokens.Unsigned("ada", _time.GetUtcNow()), "signature"),
        };
        var answer = await socket.RefreshAsync(token, cancellationToken);
        Assert.Equal("error", answer.GetProperty("control").GetString());
        Assert.Equal("token", answer.GetProperty("field").GetString());
        var message = answer.GetProperty("message").GetString();
        Assert.Contains(why, message, StringComparison.Ordinal);
        Assert.DoesNotContain(token, message, StringComparison.Ordinal);

        // Still open, and still bound to its own token's expiry.
        _time.SetUtcNow(expiresAt - TimeSpan.FromSeconds(1));
        var during = await PublishAsync(1, cancellationToken);
        Assert.Equal(during, (await socket.ReceiveEventsWithoutGapAsync(1, cancellationToken))[0].Id);
        _time.SetUtcNow(expiresAt);
        Assert.Null(await socket.ReceiveJsonAsync(cancellationToken));
        Assert.Equal(4401, (int?)socket.CloseStatus);
    }

    [Fact]
    public async Task HeldLongPollWithARealTokenAnswersEmptyWithItsCursorAtItsExp()
    {
        var cancellationToken = TestClients.Deadline();
        using var client = _app.CreateClient();
        var (token, _) = await client.SignInAsync("ada", cancellationToken);
        client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        var head = await client.HeadCursorAsync(cancellationToken);

        // Held for up to 20 s, but the token has 5 s left.
        _time.Advance(Lifetime - TimeSpan.FromSeconds(5));
        var poll = client.PollAsync($"/api/longpoll?after={head}&timeout=20", cancellationToken);
        await client.WaitForOpenConnectionsAsync("long-poll", 1, cancellationToken);
        _time.Advance(TimeSpan.FromSeconds(5));

        var body = await poll;
        Assert.Empty(body.Events);
        Assert.False(body.Gap);
        Assert.Equal(head, body.Cursor);

        // The next poll with that token is refused: the client signs in again.
        using var next = await client.GetAsync($"/api/longpoll?after={head}&timeout=20", cancellationToken);
        var problem = await next.AssertProblemAsync(401, null, cancellationToken);
        Assert.Equal("Token expired", problem.GetProperty("title").GetString());
    }

    /// <summary>Signs in as <paramref name="name"/> now and opens <c>/ws</c> with that token in its query.</summary>
    private async Task<WebSocket> ConnectAsync(string name, CancellationToken cancellationToken)
    {
        using var client = _app.CreateClient();
        var (token, _) = await client.SignInAsync(name, cancellationToken);
        var (socket, _) = await _app.ConnectWelcomedAsync($"?access_token={token}", cancellationToken);
        return socket;
    }

    /// <summary>Publishes one event as a publisher signed in now (so never with an expired token); its id.</summary>
    private async Task<string> PublishAsync(int n, CancellationToken cancellationToken)
    {
        using var client = _app.CreateClient();
        var (token, _) = await client.SignInAsync("publisher", cancellationToken);
        var published = await client.PublishRawAsync(token, new { type = "test", data = new { n } }, cancellationToken);
        return published.GetProperty("id").GetString()!;
    }
}
