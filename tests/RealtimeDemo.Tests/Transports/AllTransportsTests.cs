using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Transports;

/// <summary>The one-log promise: every transport delivers the same events, in the same order, none twice.</summary>
public sealed class AllTransportsTests : IAsyncDisposable
{
    private readonly RealtimeDemoApplication _app = new();

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    [Fact]
    public async Task HundredEventsReachEveryTransportIdentically()
    {
        const int Count = 100;
        var cancellationToken = TestClients.Deadline(Deadlines.Slow);
        var client = _app.CreateClient();
        var start = await client.HeadCursorAsync(cancellationToken);

        // Every reader attaches at the same cursor before anything is published.
        var (sseResponse, sse) = await client.OpenSseAsync($"/api/sse?after={start}", cancellationToken);
        using var _ = sseResponse;
        using var socket = await _app.Server.CreateWebSocketClient().ConnectAsync(new Uri(_app.Server.BaseAddress, $"ws?after={start}"), cancellationToken);
        var longPolling = client.PollUntilAsync("/api/longpoll?timeout=10", start, Count, cancellationToken);

        var published = await client.PublishManyAsync(Count, cancellationToken);

        var viaShortPoll = await client.PollUntilAsync("/api/poll", start, Count, cancellationToken);
        var viaLongPoll = await longPolling;
        var viaSse = (await sse.ReadSseAsync(Count)).Select(item => item.ToEvent()).ToList();
        var viaWebSocket = await socket.ReceiveEventsAsync(Count, cancellationToken);

        var expected = published.Select(e => (e.Id, e.Seq)).ToList();
        Assert.Equal(Enumerable.Range(1, Count).Select(i => published[0].Seq + i - 1), published.Select(e => e.Seq));
        Assert.Equal(expected, viaShortPoll.Select(e => (e.Id, e.Seq)));
        Assert.Equal(expected, viaLongPoll.Select(e => (e.Id, e.Seq)));
        Assert.Equal(expected, viaSse.Select(e => (e.Id, e.Seq)));
        Assert.Equal(expected, viaWebSocket.Select(e => (e.Id, e.Seq)));
        Assert.All(viaWebSocket.Zip(published), pair => Assert.Equal(pair.Second.Data.GetRawText(), pair.First.Data.GetRawText()));
    }
}
