using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;

namespace RealtimeDemo.Bench.Clients;

/// <summary>A SignalR subscriber on one transport, its HTTP and WebSocket traffic counted like the others'.</summary>
public sealed class SignalRClient(ClientContext context, HttpTransportType transport) : BenchClient(context)
{
    private HubConnection? _connection;

    public override async Task ConnectAsync(CancellationToken cancellationToken)
    {
        _connection = new HubConnectionBuilder()
            .WithUrl(new Uri(Context.Server, "/hub"), transport, options =>
            {
                options.SkipNegotiation = false;
                options.HttpMessageHandlerFactory = _ => Context.Wire.CreateHandler();
                options.WebSocketFactory = async (socketContext, token) =>
                {
                    var socket = new System.Net.WebSockets.ClientWebSocket();
                    await socket.ConnectAsync(socketContext.Uri, Context.Invoker, token);
                    return socket;
                };
            })
            .Build();
        _connection.On<JsonElement>("event", ev => Record(JsonMarshal.GetRawUtf8Value(ev)));
        await _connection.StartAsync(cancellationToken);
    }

    public override async Task ReceiveAsync(CancellationToken cancellationToken)
    {
        await using var connection = _connection!;
        await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }
}
