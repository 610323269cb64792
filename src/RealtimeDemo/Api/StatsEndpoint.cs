using RealtimeDemo.Diagnostics;
using RealtimeDemo.Events;

namespace RealtimeDemo.Api;

/// <summary><c>GET /api/stats</c>: the stream's position and each transport's counters, for the page.</summary>
internal static class StatsEndpoint
{
    public static IEndpointRouteBuilder MapStats(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/stats", (IEventLog log, TransportStats stats, TimeProvider time) =>
        {
            var head = log.Head;
            return TypedResults.Ok(new StatsResponse(head.Epoch, head.ToString(), head.Seq, StoredEvent.FormatTime(time.GetUtcNow()), stats.Snapshot()));
        });
        return app;
    }

    private sealed record StatsResponse(string Epoch, string Head, long Seq, string Time, IReadOnlyDictionary<string, TransportSnapshot> Transports);
}
