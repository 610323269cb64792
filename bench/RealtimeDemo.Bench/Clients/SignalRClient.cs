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
        _connection.On<JsonElement>("event", ev =>
        {
            if (ev.TryGetProperty("seq", out var seq) && ev.TryGetProperty("time", out var time)
                && Recorder.TryParseWireTime(System.Text.Encoding.UTF8.GetBytes(time.GetString()!), out var sent))
            {
                Context.Recorder.Record(Progress, seq.GetInt64(), sent);
            }
        });
        await _connection.StartAsync(cancellationToken);
    }

    public override async Task ReceiveAsync(CancellationToken cancellationToken)
    {
        await using var connection = _connection!;
        await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }
}
