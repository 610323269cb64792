using RealtimeDemo.Diagnostics;
using RealtimeDemo.Events;

namespace RealtimeDemo.Api;

/// <summary><c>GET /api/stats</c>: the stream's position and each transport's counters, for the page.</summary>
internal static class StatsEndpoint
{
    public static IEndpointRouteBuilder MapStats(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/stats", (IEventLog log, TransportStats stats, TimeProvider time) =>
            TypedResults.Ok(new StatsResponse(log.Epoch, log.Head.ToString(), log.Head.Seq, StoredEvent.FormatTime(time.GetUtcNow()), stats.Snapshot())));
        return app;
    }

    private sealed record StatsResponse(string Epoch, string Head, long Seq, string Time, IReadOnlyDictionary<string, TransportSnapshot> Transports);
}
