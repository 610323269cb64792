using System.Net.WebSockets;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Hosting;

/// <summary>The four transports over real TCP sockets on 127.0.0.1, with real HttpClient and ClientWebSocket.</summary>
public sealed class KestrelTransportTests : IAsyncDisposable
{
    private readonly KestrelApplication _app = new();

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    [Fact]
    public async Task EveryTransportDeliversTheSameEventsOverRealSockets()
    {
        const int Count = 20;
        var cancellationToken = TestClients.Deadline(Deadlines.Slow);
        using var client = _app.CreateSocketClient();
        var start = await client.HeadCursorAsync(cancellationToken);

        var (sseResponse, sse) = await client.OpenSseAsync($"/api/sse?after={start}", cancellationToken);
        using var _ = sseResponse;
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(_app.WebSocketUri($"/ws?after={start}"), cancellationToken);
        var longPoll = client.PollUntilAsync("/api/longpoll?timeout=10", start, Count, cancellationToken);

        var published = await client.PublishManyAsync(Count, cancellationToken);
        var expected = published.Select(e => e.Seq).ToList();

        Assert.Equal(expected, (await client.PollAsync($"/api/poll?after={start}", cancellationToken)).Events.Select(e => e.Seq));
        Assert.Equal(expected, (await longPoll).Select(e => e.Seq));
        Assert.Equal(expected, (await sse.ReadSseAsync(Count)).Select(item => item.ToEvent().Seq));
        Assert.Equal(expected, (await socket.ReceiveEventsAsync(Count, cancellationToken)).Select(e => e.Seq));
    }

    [Fact]
    public async Task WebSocketPublishFromOneClientReachesAnotherClient()
    {
        var cancellationToken = TestClients.Deadline();
        using var publisher = new ClientWebSocket();
        using var subscriber = new ClientWebSocket();
        await publisher.ConnectAsync(_app.WebSocketUri("/ws"), cancellationToken);
        await subscriber.ConnectAsync(_app.WebSocketUri("/ws"), cancellationToken);
        Assert.Equal("welcome", (await subscriber.ReceiveJsonAsync(cancellationToken))?.GetProperty("control").GetString());

        await publisher.SendJsonAsync(new { type = "publish", @event = new { type = "chat", data = new { text = "over the wire" } } }, cancellationToken);

        var received = Assert.Single(await subscriber.ReceiveEventsAsync(1, cancellationToken));
        Assert.Equal("chat", received.Type);
        Assert.Equal("over the wire", received.Data.GetProperty("text").GetString());
    }
}
