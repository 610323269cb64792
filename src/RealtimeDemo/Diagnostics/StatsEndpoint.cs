using Microsoft.Extensions.Options;
using RealtimeDemo.Diagnostics;
using RealtimeDemo.Log;
using RealtimeDemo.Publishing;

namespace RealtimeDemo.Diagnostics;

/// <summary><c>GET /api/stats</c>: the stream's position and each transport's counters, for the page.</summary>
internal static class StatsEndpoint
{
    public static IEndpointRouteBuilder MapStats(this IEndpointRouteBuilder api)
    {
        api.MapGet("/stats", (IEventLog log, TransportStats stats, TimeProvider time, IWebHostEnvironment environment, IOptions<PublishingOptions> options) =>
        {
            var head = log.Head;

            // The bench writes its report next to the page (--out wwwroot/bench); the page links to it when present.
            var benchReport = environment.WebRootFileProvider.GetFileInfo(BenchReportPath).Exists ? BenchReportPath : null;
            // Whether publishing needs the key (never the key itself): the page asks for it only then.
            var publishKeyRequired = PublishKey.IsRequired(options.Value);
            return TypedResults.Ok(new StatsResponse(head.Epoch, head.ToString(), head.Seq, StoredEvent.FormatTime(time.GetUtcNow()), stats.Snapshot(), benchReport, publishKeyRequired));
        });
        return api;
    }

    private const string BenchReportPath = "bench/report.html";

    private sealed record StatsResponse(
        string Epoch, string Head, long Seq, string Time, IReadOnlyDictionary<string, TransportSnapshot> Transports, string? BenchReport, bool PublishKeyRequired);
}
