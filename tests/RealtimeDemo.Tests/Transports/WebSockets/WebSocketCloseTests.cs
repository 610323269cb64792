using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Transports.WebSockets;

/// <summary>
/// How and why <c>/ws</c> closes: a frame the protocol refuses closes with its own status; a client's close is
/// answered; and while the server is busy sending a backlog (a reader catching up), the close handshake still
/// completes, over real sockets where back-pressure leaves a send in flight.
/// </summary>
public sealed class WebSocketCloseTests : IAsyncDisposable
{
    private const int Backlog = 5000;

    private readonly RealtimeDemoApplication _app = new();

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    [Fact]
    public async Task BinaryFrameIsClosedAsInvalidMessageType()
    {
        var cancellationToken = TestClients.Deadline();
        var (socket, _) = await _app.ConnectWelcomedAsync("", cancellationToken);
        using var __ = socket;

        await socket.SendAsync(new byte[] { 1, 2, 3 }, WebSocketMessageType.Binary, true, cancellationToken);

        Assert.Equal(WebSocketCloseStatus.InvalidMessageType, await socket.ReceiveUntilCloseAsync(cancellationToken));
    }

    [Fact]
    public async Task MessageOverThePublishLimitIsClosedAsTooBig()
    {
        var cancellationToken = TestClients.Deadline();
        var (socket, _) = await _app.ConnectWelcomedAsync("", cancellationToken);
        using var __ = socket;

        // One byte over Realtime:MaxPublishBodyBytes (default 16384).
        var message = """{"type":"publish","event":{"type":"chat","data":{"text":""" + $"\"{new string('x', 16384)}\"" + "}}}";
        await socket.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, true, cancellationToken);

        Assert.Equal(WebSocketCloseStatus.MessageTooBig, await socket.ReceiveUntilCloseAsync(cancellationToken));
    }

    [Fact]
    public async Task InvalidUtf8IsClosedAsInvalidPayloadData()
    {
        var cancellationToken = TestClients.Deadline();
        var (socket, _) = await _app.ConnectWelcomedAsync("", cancellationToken);
        using var __ = socket;

        // 0xC3 starts a two-byte sequence; '(' cannot continue it.
        await socket.SendAsync(new byte[] { (byte)'{', 0xC3, (byte)'(', (byte)'}' }, WebSocketMessageType.Text, true, cancellationToken);

        Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, await socket.ReceiveUntilCloseAsync(cancellationToken));
    }

    [Fact]
    public async Task InvalidUtf8IsClosedAsInvalidPayloadDataOverKestrel()
    {
        // The in-memory test socket passes any bytes through; Kestrel's socket validates UTF-8 itself,
        // so only a real connection shows what a browser gets. Repeated because the failure is a race.
        await using var app = new KestrelApplication();
        var cancellationToken = TestClients.Deadline(Deadlines.Slow);
        var endpoint = app.WebSocketUri("/ws");

        for (var attempt = 1; attempt <= 10; attempt++)
        {
            using var socket = new ClientWebSocket();
            await socket.ConnectAsync(endpoint, cancellationToken);
            Assert.Equal("welcome", (await socket.ReceiveNextAsync(cancellationToken)).GetProperty("control").GetString());

            await socket.SendAsync(new byte[] { (byte)'{', 0xC3, (byte)'(', (byte)'}' }, WebSocketMessageType.Text, true, cancellationToken);

            Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, await socket.ReceiveUntilCloseAsync(cancellationToken));
        }
    }

    [Fact]
    public async Task ClientCloseIsAnsweredWithNormalClosure()
    {
        var cancellationToken = TestClients.Deadline();
        var (socket, _) = await _app.ConnectWelcomedAsync("", cancellationToken);
        using var __ = socket;

        // CloseAsync completes only once the server's close frame has arrived.
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", cancellationToken);

        Assert.Equal(WebSocketState.Closed, socket.State);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
        await _app.CreateClient().WaitForOpenConnectionsAsync("websocket", 0, cancellationToken);
    }

    [Fact]
    public async Task ClientCloseDuringCatchUpIsAnsweredWithNormalClosure()
    {
        var cancellationToken = TestClients.Deadline(Deadlines.Slow);
        await using var app = await StartWithBacklogAsync(cancellationToken);
        using var socket = await ConnectCatchingUpAsync(app, cancellationToken);

        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", cancellationToken);

        Assert.Equal(WebSocketCloseStatus.NormalClosure, await socket.ReceiveUntilCloseAsync(cancellationToken));
    }

    [Fact]
    public async Task ShutdownDuringCatchUpClosesWithGoingAway()
    {
        var cancellationToken = TestClients.Deadline(Deadlines.Slow);
        await using var app = await StartWithBacklogAsync(cancellationToken);
        using var socket = await ConnectCatchingUpAsync(app, cancellationToken);

        app.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();

        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, await socket.ReceiveUntilCloseAsync(cancellationToken));
    }

    // A real host holding about 20 MB of events: far more than the socket buffers hold, so the server blocks mid-batch.
    private static async Task<KestrelApplication> StartWithBacklogAsync(CancellationToken cancellationToken)
    {
        var app = new KestrelApplication(new Dictionary<string, string?>
        {
            ["Realtime:Retention"] = "100000",
            ["Realtime:ReadBatchSize"] = "10000",
        });
        try
        {
            var log = app.Services.GetRequiredService<IEventLog>();
            var data = JsonSerializer.SerializeToElement(new { text = new string('x', 4000) });
            for (var i = 0; i < Backlog; i++)
            {
                await log.AppendAsync("bulk", data, cancellationToken);
            }

            return app;
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    // Connects from the start of the stream and takes the welcome and the first event: the server is now sending the rest.
    private static async Task<ClientWebSocket> ConnectCatchingUpAsync(KestrelApplication app, CancellationToken cancellationToken)
    {
        var epoch = app.Services.GetRequiredService<IEventLog>().Epoch;
        var socket = await app.ConnectWebSocketAsync($"/ws?after={epoch}-0", cancellationToken);
        Assert.Equal(1, (await socket.ReceiveEventsAsync(1, cancellationToken))[0].Seq);
        return socket;
    }
}
