using System.Net.WebSockets;

namespace RealtimeDemo.Bench.Clients;

/// <summary>A WebSocket subscriber; control messages (welcome, gap) carry no seq and are skipped.</summary>
public sealed class WebSocketClient(ClientContext context, string path, bool withCursor) : BenchClient(context)
{
    // No keep-alive of its own, as in a browser (which never sends unsolicited pings or pongs): ClientWebSocket's
    // default would send a pong every 30 s, counted as the server's heartbeat traffic. It still answers pings.
    private readonly ClientWebSocket _socket = new() { Options = { KeepAliveInterval = TimeSpan.Zero } };

    public override async Task ConnectAsync(CancellationToken cancellationToken)
    {
        var url = withCursor ? WithQuery(path, "after", Context.StartCursor) : path;
        var uri = new UriBuilder(new Uri(Context.Server, url)) { Scheme = Context.Server.Scheme == Uri.UriSchemeHttps ? "wss" : "ws" }.Uri;
        await _socket.ConnectAsync(uri, Context.Invoker, cancellationToken);
    }

    public override async Task ReceiveAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        var length = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var received = await _socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                return;
            }

            length += received.Count;
            if (received.EndOfMessage)
            {
                Record(buffer.AsSpan(0, length));
                length = 0;
            }
            else if (length == buffer.Length)
            {
                Array.Resize(ref buffer, buffer.Length * 2);
            }
        }
    }

    public override ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
