using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Transports.WebSockets;

/// <summary>
/// Closing a WebSocket while the server is busy sending a backlog (a reader catching up): the close handshake
/// must still complete, over real sockets where back-pressure leaves a send in flight.
/// </summary>
public sealed class WebSocketCloseTests : IAsyncLifetime
{
    private const int Backlog = 5000;

    private readonly KestrelApplication _app = new(new Dictionary<string, string?>
    {
        ["Realtime:Retention"] = "100000",
        ["Realtime:ReadBatchSize"] = "10000",
    });

    public async ValueTask InitializeAsync()
    {
        // About 20 MB of events: far more than the socket buffers hold, so the server blocks mid-batch.
        var log = _app.Services.GetRequiredService<IEventLog>();
        var data = JsonSerializer.SerializeToElement(new { text = new string('x', 4000) });
        for (var i = 0; i < Backlog; i++)
        {
            await log.AppendAsync("bulk", data, TestContext.Current.CancellationToken);
        }
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    [Fact]
    public async Task ClientCloseDuringCatchUpIsAnsweredWithNormalClosure()
    {
        var cancellationToken = TestClients.Deadline(30);
        using var socket = await ConnectCatchingUpAsync(cancellationToken);

        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", cancellationToken);

        Assert.Equal(WebSocketCloseStatus.NormalClosure, await socket.ReceiveUntilCloseAsync(cancellationToken));
    }

    [Fact]
    public async Task ShutdownDuringCatchUpClosesWithGoingAway()
    {
        var cancellationToken = TestClients.Deadline(30);
        using var socket = await ConnectCatchingUpAsync(cancellationToken);

        _app.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();

        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, await socket.ReceiveUntilCloseAsync(cancellationToken));
    }

    // Connects from the start of the stream and takes the welcome and the first event: the server is now sending the rest.
    private async Task<ClientWebSocket> ConnectCatchingUpAsync(CancellationToken cancellationToken)
    {
        var epoch = _app.Services.GetRequiredService<IEventLog>().Epoch;
        var socket = await _app.ConnectWebSocketAsync($"/ws?after={epoch}-0", cancellationToken);
        Assert.Equal(1, (await socket.ReceiveEventsAsync(1, cancellationToken))[0].Seq);
        return socket;
    }
}
