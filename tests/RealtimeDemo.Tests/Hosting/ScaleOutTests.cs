using System.Net;
using System.Net.ServerSentEvents;
using System.Net.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Hosting;

/// <summary>
/// Two hosts on real Kestrel sharing one log through a real Redis, as behind a load balancer without sticky sessions:
/// every client must see them as one server.
/// </summary>
public sealed class ScaleOutTests(RedisServer redis) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private readonly string _keyPrefix = RedisServer.NewKeyPrefix();
    private readonly List<KestrelApplication> _hosts = [];

    public ValueTask InitializeAsync()
    {
        redis.RequireRedis();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
        }
    }

    [Fact]
    public async Task EventsPublishedOnEitherHostReachEveryTransportOnBothInOneContiguousOrder()
    {
        const int Count = 20;
        var cancellationToken = TestClients.Deadline(Deadlines.Load);
        var (a, b) = StartHosts();
        using var clientA = a.CreateSocketClient();
        using var clientB = b.CreateSocketClient();
        var start = await clientB.HeadCursorAsync(cancellationToken);

        var readersOfA = ReadEveryStreamingTransportAsync(a, clientA, start, Count, cancellationToken);
        var readersOfB = ReadEveryStreamingTransportAsync(b, clientB, start, Count, cancellationToken);

        var published = new List<WireEvent>();
        for (var i = 0; i < Count; i++)
        {
            published.Add(await (i % 2 == 0 ? clientA : clientB).PublishAsync("test", new { n = i }, cancellationToken));
        }

        var expected = published.Select(e => e.Id).ToList();
        Assert.Equal(Enumerable.Range(1, Count).Select(i => published[0].Seq + i - 1), published.Select(e => e.Seq));
        foreach (var (host, readers) in new[] { ("A", await readersOfA), ("B", await readersOfB) })
        {
            foreach (var (transport, ids) in readers)
            {
                Assert.True(expected.SequenceEqual(ids), $"{transport} on host {host} received [{string.Join(", ", ids)}]");
            }
        }

        // Short polls of either host, once the streams of both have everything.
        Assert.Equal(expected, (await clientA.PollAsync($"/api/poll?after={start}", cancellationToken)).Events.Select(e => e.Id));
        Assert.Equal(expected, (await clientB.PollAsync($"/api/poll?after={start}", cancellationToken)).Events.Select(e => e.Id));
    }

    [Fact]
    public async Task AReaderCutFromOneHostResumesOnTheOtherWithNothingLost()
    {
        var cancellationToken = TestClients.Deadline(Deadlines.Load);
        var (a, b) = StartHosts();
        using var clientA = a.CreateSocketClient();
        using var clientB = b.CreateSocketClient();
        var start = await clientB.HeadCursorAsync(cancellationToken);

        // SSE and WebSocket readers of host B take five events each, then their connections are cut.
        var (sseResponse, sse) = await clientB.OpenSseAsync($"/api/sse?after={start}", cancellationToken);
        var socket = new ClientWebSocket();
        await socket.ConnectAsync(b.WebSocketUri($"/ws?after={start}"), cancellationToken);
        var first = await clientB.PublishManyAsync(5, cancellationToken);
        var sseLast = (await sse.ReadSseAsync(5)).Last().EventId!;
        var socketLast = (await socket.ReceiveEventsWithoutGapAsync(5, cancellationToken)).Last().Id;
        sseResponse.Dispose();
        socket.Abort();
        socket.Dispose();

        // While they are away, both hosts publish; they come back through host A with the cursors host B gave them.
        var rest = new List<WireEvent>();
        for (var i = 0; i < 6; i++)
        {
            rest.Add(await (i % 2 == 0 ? clientA : clientB).PublishAsync("test", new { n = i }, cancellationToken));
        }

        var (resumedResponse, resumed) = await clientA.OpenSseAsync("/api/sse", cancellationToken, lastEventId: sseLast);
        using var _ = resumedResponse;
        using var resumedSocket = new ClientWebSocket();
        await resumedSocket.ConnectAsync(a.WebSocketUri($"/ws?after={socketLast}"), cancellationToken);

        var expected = rest.Select(e => e.Id).ToList();
        var sseItems = await resumed.ReadSseAsync(rest.Count);
        Assert.DoesNotContain(sseItems, item => item.EventType != SseParser.EventTypeDefault);
        Assert.Equal(expected, sseItems.Select(item => item.EventId));
        Assert.Equal(first[^1].Id, sseLast);
        Assert.Equal(first[^1].Id, socketLast);
        Assert.Equal(expected, (await resumedSocket.ReceiveEventsWithoutGapAsync(rest.Count, cancellationToken)).Select(e => e.Id));
        Assert.Equal(expected, (await clientA.PollAsync($"/api/longpoll?after={first[^1].Id}&timeout=5", cancellationToken)).Events.Select(e => e.Id));
    }

    [Fact]
    public async Task WithRedisStoppedPublishAnswers503AndReadersStayAndWhenItReturnsTheStreamContinues()
    {
        redis.RequireOwnServer();
        var cancellationToken = TestClients.Deadline(Deadlines.Load);
        var (a, b) = StartHosts();
        using var clientA = a.CreateSocketClient();
        using var clientB = b.CreateSocketClient();
        var start = await clientB.HeadCursorAsync(cancellationToken);
        var (sseResponse, sse) = await clientB.OpenSseAsync($"/api/sse?after={start}", cancellationToken);
        using var _ = sseResponse;
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(a.WebSocketUri($"/ws?after={start}"), cancellationToken);
        var before = await clientA.PublishManyAsync(3, cancellationToken);
        Assert.Equal(before.Select(e => e.Id), (await socket.ReceiveEventsWithoutGapAsync(3, cancellationToken)).Select(e => e.Id));
        Assert.Equal(before.Select(e => e.Id), (await sse.ReadSseAsync(3)).Select(item => item.EventId));

        Task<List<WireEvent>> onSocket;
        await redis.StopAsync(keepData: true);
        try
        {
            // The hosts stay up and report themselves unready once they have seen Redis go; from then on, with command
            // timeouts of 30 s, a publish fails fast: refused because Redis cannot be reached, not because it "did not
            // answer in time", and well before a 15 s deadline that a publish queued until the timeout would outlast.
            Assert.Equal(30_000, ConfigurationOptions.Parse(a.Services.GetRequiredService<IConnectionMultiplexer>().Configuration).AsyncTimeout);
            await WaitForHealthAsync(clientA, HttpStatusCode.ServiceUnavailable, cancellationToken);
            await WaitForHealthAsync(clientB, HttpStatusCode.ServiceUnavailable, cancellationToken);
            using var content = new StringContent("""{"type":"test","data":{"lost":true}}""", System.Text.Encoding.UTF8, "application/json");
            using var refused = await clientA.PostAsync("/api/events", content, TestClients.Deadline());
            var problem = await refused.AssertProblemAsync(503, null, cancellationToken);
            Assert.NotNull(refused.Headers.RetryAfter);
            Assert.Contains("Redis cannot be reached", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

            // A WebSocket publish is refused with an error message, and the socket stays open.
            await socket.SendJsonAsync(new { type = "publish", @event = new { type = "test", data = new { lost = true } } }, cancellationToken);
            var error = (await socket.ReceiveJsonAsync(TestClients.Deadline()))!.Value;
            Assert.Equal("error", error.GetProperty("control").GetString());
            Assert.Equal("event", error.GetProperty("field").GetString());
            Assert.Contains("Redis cannot be reached", error.GetProperty("message").GetString(), StringComparison.Ordinal);

            // From here the socket is read on, as a browser's is, so the host's pings are answered while Redis is away.
            onSocket = socket.ReceiveEventsWithoutGapAsync(2, cancellationToken);

            // The hosts keep their readers.
            await clientB.WaitForOpenConnectionsAsync("sse", 1, cancellationToken);
            await clientA.WaitForOpenConnectionsAsync("websocket", 1, cancellationToken);
        }
        finally
        {
            await redis.StartAsync(cancellationToken);
        }

        await WaitForHealthAsync(clientA, HttpStatusCode.OK, cancellationToken);
        await WaitForHealthAsync(clientB, HttpStatusCode.OK, cancellationToken);
        var after = await clientA.PublishManyAsync(2, cancellationToken);

        // The same stream, the next seqs, and the reader that stayed on host B gets them with no gap signal.
        Assert.Equal([before[^1].Seq + 1, before[^1].Seq + 2], after.Select(e => e.Seq));
        var items = await sse.ReadSseAsync(2);
        Assert.DoesNotContain(items, item => item.EventType != SseParser.EventTypeDefault);
        Assert.Equal(after.Select(e => e.Id), items.Select(item => item.EventId));
        Assert.Equal(after.Select(e => e.Id), (await onSocket).Select(e => e.Id));
    }

    private (KestrelApplication A, KestrelApplication B) StartHosts()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Realtime:Store"] = "Redis",
            ["Realtime:RedisKeyPrefix"] = _keyPrefix,
            ["ConnectionStrings:Redis"] = redis.ConnectionString,
        };
        var a = new KestrelApplication(settings);
        _hosts.Add(a);
        var b = new KestrelApplication(settings);
        _hosts.Add(b);
        return (a, b);
    }

    // SSE, WebSocket and long-poll readers of one host from the same cursor: the ids each received, by transport.
    private static async Task<Dictionary<string, List<string>>> ReadEveryStreamingTransportAsync(
        KestrelApplication host, HttpClient client, string start, int count, CancellationToken cancellationToken)
    {
        var (sseResponse, sse) = await client.OpenSseAsync($"/api/sse?after={start}", cancellationToken);
        using var _ = sseResponse;
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(host.WebSocketUri($"/ws?after={start}"), cancellationToken);

        var longPoll = client.PollUntilAsync("/api/longpoll?timeout=5", start, count, cancellationToken);
        var sseIds = (await sse.ReadSseAsync(count)).Select(item => item.EventId!).ToList();
        var socketIds = (await socket.ReceiveEventsWithoutGapAsync(count, cancellationToken)).Select(e => e.Id).ToList();
        return new() { ["sse"] = sseIds, ["websocket"] = socketIds, ["long-poll"] = (await longPoll).Select(e => e.Id).ToList() };
    }

    private static Task WaitForHealthAsync(HttpClient client, HttpStatusCode expected, CancellationToken cancellationToken) =>
        TestClients.WaitUntilAsync(
            async () =>
            {
                using var response = await client.GetAsync("/healthz", cancellationToken);
                return response.StatusCode == expected;
            },
            cancellationToken);
}
