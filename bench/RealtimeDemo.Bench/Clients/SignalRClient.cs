using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;

namespace RealtimeDemo.Bench.Clients;

/// <summary>A SignalR subscriber on one transport, its HTTP and WebSocket traffic counted like the others'.</summary>
public sealed class SignalRClient(ClientContext context, HttpTransportType transport) : BenchClient(context)
{
    // Completed when the connection closes, with the error that closed it, if any.
    private readonly TaskCompletionSource<Exception?> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private HubConnection? _connection;

    public override async Task ConnectAsync(CancellationToken cancellationToken)
    {
        _connection = new HubConnectionBuilder()
            .WithUrl(new Uri(Context.Server, "/hub"), transport, options =>
            {
                // Over WebSockets the client may connect at once, as ours do: without the negotiate request, which
                // would hold a second connection per client in its handler's pool.
                options.SkipNegotiation = transport == HttpTransportType.WebSockets;
                options.HttpMessageHandlerFactory = _ => Context.Wire.CreateHandler();
                options.WebSocketFactory = async (socketContext, token) =>
                {
                    // No keep-alive of its own, as with our WebSocket clients: SignalR pings by itself, and the socket's
                    // unsolicited pongs would count as heartbeat traffic.
                    var socket = new System.Net.WebSockets.ClientWebSocket { Options = { KeepAliveInterval = TimeSpan.Zero } };
                    await socket.ConnectAsync(socketContext.Uri, Context.Invoker, token);
                    return socket;
                };
            })
            .Build();
        _connection.On<JsonElement>("event", ev => Record(JsonMarshal.GetRawUtf8Value(ev)));
        _connection.Closed += error =>
        {
            _closed.TrySetResult(error);
            return Task.CompletedTask;
        };
        await _connection.StartAsync(cancellationToken);
    }

    public override async Task ReceiveAsync(CancellationToken cancellationToken)
    {
        // Until stopped (which throws, as with the other clients), or until the connection closes: ending before
        // being stopped, with the error or without, counts the client as failed.
        var error = await _closed.Task.WaitAsync(cancellationToken);
        if (error is not null)
        {
            throw new IOException("The SignalR connection closed.", error);
        }
    }

    public override ValueTask DisposeAsync() => _connection?.DisposeAsync() ?? ValueTask.CompletedTask;
}
