using System.Net;
using System.Net.WebSockets;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Limits;

/// <summary>Each long-lived transport has its own cap; one connection over it gets 503 with Retry-After.</summary>
public sealed class ConnectionCapTests : IAsyncDisposable
{
    private readonly KestrelApplication _app = new(new Dictionary<string, string?>
    {
        ["Realtime:MaxSseConnections"] = "2",
        ["Realtime:MaxWebSocketConnections"] = "1",
        ["Realtime:MaxLongPollConnections"] = "1",
        ["Realtime:LongPollTimeout"] = "00:00:30",
    });

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    [Fact]
    public async Task SseStreamsOverTheCapGet503UntilOneCloses()
    {
        var cancellationToken = TestClients.Deadline();
        using var client = _app.CreateSocketClient();
        var (first, _) = await client.OpenSseAsync("/api/sse", cancellationToken);
        var (second, _) = await client.OpenSseAsync("/api/sse", cancellationToken);
        using var _second = second;

        // Both within the cap of 2: a cap off by one refuses the second.
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);

        using (var third = await client.GetAsync("/api/sse", HttpCompletionOption.ResponseHeadersRead, cancellationToken))
        {
            await AssertRefusedAsync(third, "2 SSE streams", cancellationToken);
        }

        // Other transports have caps of their own.
        using (var longPoll = await client.GetAsync("/api/longpoll?timeout=0", cancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, longPoll.StatusCode);
        }

        first.Dispose();
        using var fourth = await OpenWhenFreedAsync(() => client.GetAsync("/api/sse", HttpCompletionOption.ResponseHeadersRead, cancellationToken), cancellationToken);
        Assert.Equal(HttpStatusCode.OK, fourth.StatusCode);
    }

    [Fact]
    public async Task WebSocketsOverTheCapGet503BeforeTheUpgrade()
    {
        var cancellationToken = TestClients.Deadline();
        using var client = _app.CreateSocketClient();
        var first = new ClientWebSocket();
        await first.ConnectAsync(_app.WebSocketUri("/ws"), cancellationToken);

        using (var upgrade = TestClients.UpgradeRequest("/ws"))
        using (var second = await client.SendAsync(upgrade, cancellationToken))
        {
            await AssertRefusedAsync(second, "1 WebSockets", cancellationToken);
        }

        await first.CloseAsync(WebSocketCloseStatus.NormalClosure, "", cancellationToken);
        first.Dispose();
        using var third = await OpenWhenFreedAsync(
            async () =>
            {
                using var upgrade = TestClients.UpgradeRequest("/ws");
                return await client.SendAsync(upgrade, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            },
            cancellationToken);
        Assert.Equal(HttpStatusCode.SwitchingProtocols, third.StatusCode);
    }

    [Fact]
    public async Task HeldLongPollsOverTheCapGet503()
    {
        var cancellationToken = TestClients.Deadline();
        using var client = _app.CreateSocketClient();
        var holding = client.GetAsync("/api/longpoll", cancellationToken);
        await client.WaitForOpenConnectionsAsync("long-poll", 1, cancellationToken);

        using (var second = await client.GetAsync("/api/longpoll", cancellationToken))
        {
            await AssertRefusedAsync(second, "1 long polls", cancellationToken);
        }

        // The held poll answers the next event, which frees its slot.
        await client.PublishAsync("chat", new { }, cancellationToken);
        using (var answered = await holding)
        {
            Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        }

        using var third = await OpenWhenFreedAsync(() => client.GetAsync("/api/longpoll?timeout=0", cancellationToken), cancellationToken);
        Assert.Equal(HttpStatusCode.OK, third.StatusCode);
    }

    [Fact]
    public async Task ARequestRefusedByTheHandlerGivesItsSlotBack()
    {
        var cancellationToken = TestClients.Deadline();
        using var client = _app.CreateSocketClient();

        // Each bad cursor takes the one long-poll slot and is answered 400; a slot kept would make the next one a 503.
        for (var i = 0; i < 3; i++)
        {
            using var refused = await OpenWhenFreedAsync(() => client.GetAsync("/api/longpoll?after=not-a-cursor&timeout=0", cancellationToken), cancellationToken);
            await refused.AssertProblemAsync(400, null, cancellationToken);
        }

        using var answered = await OpenWhenFreedAsync(() => client.GetAsync("/api/longpoll?timeout=0", cancellationToken), cancellationToken);
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
    }

    private static async Task AssertRefusedAsync(HttpResponseMessage response, string limit, CancellationToken cancellationToken)
    {
        var problem = await response.AssertProblemAsync(503, null, cancellationToken);
        Assert.Equal(TimeSpan.FromSeconds(5), response.Headers.RetryAfter?.Delta);
        Assert.Contains(limit, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    // A slot is freed when the request that held it has completed on the server, a moment after the client sees its
    // end: retry, as a client honouring Retry-After would, until the deadline.
    private static async Task<HttpResponseMessage> OpenWhenFreedAsync(Func<Task<HttpResponseMessage>> open, CancellationToken cancellationToken)
    {
        HttpResponseMessage? opened = null;
        await TestClients.WaitUntilAsync(
            async () =>
            {
                opened?.Dispose();
                opened = await open();
                return opened.StatusCode != HttpStatusCode.ServiceUnavailable;
            },
            cancellationToken);
        return opened!;
    }
}
