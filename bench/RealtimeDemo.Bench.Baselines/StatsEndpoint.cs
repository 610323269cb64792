using RealtimeDemo.Bench.Baselines.Events;

namespace RealtimeDemo.Bench.Baselines;

/// <summary>
/// <c>GET /stats</c>: connections and drops per raw baseline and the SignalR broadcast's backlog, so a run
/// can tell a slow client from a lost event.
/// </summary>
public static class StatsEndpoint
{
    public static IEndpointRouteBuilder MapStats(this IEndpointRouteBuilder app)
    {
        app.MapGet("/stats", (Publisher publisher, RawWebSocketBroadcast ws, RawSseBroadcast sse, HubBroadcast hub) =>
            TypedResults.Ok(new Stats(
                publisher.Epoch,
                publisher.State.Seq,
                new RawStats(ws.Clients.Connections, ws.Clients.Drops),
                new RawStats(sse.Clients.Connections, sse.Clients.Drops),
                new HubStats(hub.Backlog, hub.Drops))));
        return app;
    }

    public sealed record Stats(string Epoch, long Seq, RawStats RawWebSocket, RawStats RawSse, HubStats Hub);

    public sealed record RawStats(int Connections, long Drops);

    public sealed record HubStats(int Backlog, long Drops);
}
