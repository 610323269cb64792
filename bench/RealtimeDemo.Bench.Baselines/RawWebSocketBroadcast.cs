using System.Net.WebSockets;
using System.Threading.Channels;
using RealtimeDemo.Bench.Baselines.Broadcast;
using RealtimeDemo.Bench.Baselines.Events;

namespace RealtimeDemo.Bench.Baselines;

/// <summary>
/// <c>/raw/ws</c>: the least a Kestrel WebSocket broadcast can be while still sound. Every event's JSON goes to
/// every socket as one text frame; no cursor, no resume, no control messages. Per connection: a bounded queue,
/// a send loop draining it, and a receive loop that only waits for the client's close.
/// </summary>
public sealed class RawWebSocketBroadcast(IHostApplicationLifetime lifetime, ILogger<RawWebSocketBroadcast> logger) : IEventSink
{
    /// <summary>How long a client gets to answer our close frame before its connection is aborted.</summary>
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    private FanOut Clients { get; } = new("raw-websocket", logger);

    public void Publish(EncodedEvent ev) => Clients.Publish(ev.Json);

    public async Task HandleAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        // Any origin: the benchmark's clients are not browsers, and the baseline has no page to protect.
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var queue = Clients.Subscribe();

        // A client that fell a whole queue behind cannot read a close frame in time either: abort it.
        using var overflow = queue.Overflowed.Register(static state => ((HttpContext)state!).Abort(), context);

        // Stops sending (not the socket): the client's close, or the host shutting down.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(lifetime.ApplicationStopping);
        var aborted = context.RequestAborted;
        var receiving = ReceiveUntilCloseAsync(socket, stop, aborted);
        try
        {
            await SendUntilStoppedAsync(socket, queue.Reader, stop.Token, aborted);
            await CloseAsync(socket, aborted);
        }
        finally
        {
            Clients.Unsubscribe(queue);
            try
            {
                await receiving.WaitAsync(CloseTimeout, CancellationToken.None);
            }
            catch (TimeoutException)
            {
                context.Abort();
                await receiving;
            }
        }
    }

    private static async Task SendUntilStoppedAsync(WebSocket socket, ChannelReader<byte[]> reader, CancellationToken stop, CancellationToken aborted)
    {
        try
        {
            // `stop` only ends the waits between frames; cancelling a send would abort the socket mid-frame.
            while (await reader.WaitToReadAsync(stop))
            {
                while (!stop.IsCancellationRequested && reader.TryRead(out var frame))
                {
                    await socket.SendAsync(frame.AsMemory(), WebSocketMessageType.Text, endOfMessage: true, aborted);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or IOException)
        {
            // The client left, the host is stopping, or the queue overflowed: the caller closes or aborts.
        }
    }

    private static async Task ReceiveUntilCloseAsync(WebSocket socket, CancellationTokenSource stop, CancellationToken aborted)
    {
        // Clients send nothing but the close; anything else is read and ignored.
        var buffer = new byte[256];
        try
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer.AsMemory(), aborted);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or IOException)
        {
        }
        finally
        {
            await stop.CancelAsync();
        }
    }

    private static async Task CloseAsync(WebSocket socket, CancellationToken aborted)
    {
        // Answer the client's close (1000), or say we are going away (1001) when the host stops.
        var status = socket.State switch
        {
            WebSocketState.CloseReceived => WebSocketCloseStatus.NormalClosure,
            WebSocketState.Open => WebSocketCloseStatus.EndpointUnavailable,
            _ => (WebSocketCloseStatus?)null,
        };

        if (status is { } closeStatus)
        {
            try
            {
                await socket.CloseOutputAsync(closeStatus, null, aborted);
            }
            catch (Exception e) when (e is OperationCanceledException or WebSocketException or IOException)
            {
            }
        }
    }
}
