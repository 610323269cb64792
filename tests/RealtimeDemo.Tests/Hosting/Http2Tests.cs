using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Hosting;

/// <summary>
/// The transports over HTTP/2, as a browser speaks them to a host that terminates TLS itself: SSE as one stream of a
/// shared connection, WebSockets as extended CONNECT streams. Plain-text HTTP/2 here, on real Kestrel.
/// </summary>
public sealed class Http2Tests : IAsyncDisposable
{
    private readonly KestrelApplication _app = new(new Dictionary<string, string?>
    {
        ["Realtime:SendTimeout"] = "00:00:01",
        ["Realtime:MaxWebSocketConnections"] = "1",
    }, protocols: HttpProtocols.Http2);

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    [Fact]
    public async Task SseDeliversOverHttp2()
    {
        var cancellationToken = TestClients.Deadline();
        using var client = _app.CreateHttp2Client();
        var (response, items) = await client.OpenSseAsync("/api/sse", cancellationToken);
        using var _ = response;
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await client.WaitForOpenConnectionsAsync("sse", 1, cancellationToken);

        var published = await client.PublishManyAsync(3, cancellationToken);

        var received = (await items.ReadSseAsync(3)).Where(item => item.EventType == "message").Select(item => item.ToEvent().Seq);
        Assert.Equal(published.Select(e => e.Seq), received);
    }

    [Fact]
    public async Task AWebSocketOverHttp2ReceivesAndPublishes()
    {
        var cancellationToken = TestClients.Deadline();
        using var client = _app.CreateHttp2Client();
        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler());
        using var socket = await _app.ConnectWebSocketAsync("/ws", cancellationToken, http2: invoker);

        var published = await client.PublishAsync("test", new { n = 1 }, cancellationToken);
        Assert.Equal(published.Seq, (await socket.ReceiveEventsWithoutGapAsync(1, cancellationToken)).Single().Seq);

        // The client's own publish on the socket comes back to it as the next event.
        await socket.SendJsonAsync(new { type = "publish", @event = new { type = "chat", data = new { text = "hi" } } }, cancellationToken);
        var echoed = (await socket.ReceiveEventsWithoutGapAsync(1, cancellationToken)).Single();
        Assert.Equal(("chat", published.Seq + 1), (echoed.Type, echoed.Seq));

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", cancellationToken);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
    }

    [Fact]
    public async Task AWebSocketOverHttp2ThatNeverReadsIsDroppedAndItsSlotFreed()
    {
        var cancellationToken = TestClients.Deadline(Deadlines.Load);
        using var client = _app.CreateHttp2Client();

        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler());
        using var stalled = await _app.ConnectWebSocketAsync("/ws", cancellationToken, http2: invoker);
        await client.WaitForOpenConnectionsAsync("websocket", 1, cancellationToken);

        // Append until the stalled socket's write has been blocked for the send timeout and the watchdog drops it: HTTP/2
        // flow control stops the host's writes once the client's window is full, and only the drop ends them.
        var log = _app.Services.GetRequiredService<IEventLog>();
        var data = JsonSerializer.SerializeToElement(new { text = new string('x', 2000) });
        await TestClients.WaitUntilAsync(
            async () =>
            {
                for (var i = 0; i < 50; i++)
                {
                    await log.AppendAsync("flood", data, cancellationToken);
                }

                return (await client.TransportStatsAsync("websocket", cancellationToken)).GetProperty("dropped").GetInt64() == 1;
            },
            cancellationToken);
        await client.WaitForOpenConnectionsAsync("websocket", 0, cancellationToken);

        // Its slot is free again: with a cap of one WebSocket, a new one is let in (refused with 503 until the dropped
        // stream's response has completed and given its permit back).
        using var next = new HttpMessageInvoker(new SocketsHttpHandler());
        ClientWebSocket? admitted = null;
        await TestClients.WaitUntilAsync(
            async () =>
            {
                try
                {
                    admitted = await _app.ConnectWebSocketAsync("/ws", cancellationToken, http2: next);
                    return true;
                }
                catch (HttpRequestException refused) when (refused.StatusCode == HttpStatusCode.ServiceUnavailable)
                {
                    return false;
                }
            },
            cancellationToken);
        admitted!.Dispose();
    }
}
