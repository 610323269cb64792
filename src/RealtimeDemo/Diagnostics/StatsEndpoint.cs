using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using RealtimeDemo.Log;
using RealtimeDemo.Publishing;
using RealtimeDemo.Tokens;
using RealtimeDemo.Transports;

namespace RealtimeDemo.Diagnostics;

/// <summary><c>GET /api/stats</c>: the stream's position and each transport's counters, for the page.</summary>
internal static class StatsEndpoint
{
    public static IEndpointRouteBuilder MapStats(this IEndpointRouteBuilder api)
    {
        api.MapGet("/stats", (HttpRequest request, IEventLog log, TransportStats stats, TimeProvider time, IWebHostEnvironment environment,
            IOptions<PublishingOptions> options, IOptions<TransportOptions> transportOptions, IOptions<ReaderTokenOptions> tokenOptions,
            IServer server) =>
        {
            var head = log.Head;

            // The bench writes its report next to the page (--out wwwroot/bench); the page links to it when present.
            var benchReport = environment.WebRootFileProvider.GetFileInfo(BenchReportPath).Exists ? BenchReportPath : null;
            // Whether publishing needs the key (never the key itself): the page asks for it only then.
            var publishKeyRequired = PublishKey.IsRequired(options.Value);
            // Polls have no welcome to learn the heartbeat from; a page times its polls and its silence checks by it.
            // Whether reading needs a reader token: the page signs in first then.
            return TypedResults.Ok(new StatsResponse(head.Epoch, head.ToString(), head.Seq, StoredEvent.FormatTime(time.GetUtcNow()),
                stats.Snapshot(), benchReport, publishKeyRequired, HttpsAddress(server, request),
                (long)transportOptions.Value.HeartbeatInterval.TotalMilliseconds, tokenOptions.Value.RequireReaderToken));
        });
        return api;
    }

    private const string BenchReportPath = "bench/report.html";

    /// <summary>
    /// Where this host serves HTTPS, under the host name the request used (a listening address may be a wildcard), so
    /// a page loaded over HTTP/1.1 can link to the HTTP/2 one; null when the host listens on no HTTPS address.
    /// </summary>
    private static string? HttpsAddress(IServer server, HttpRequest request)
    {
        var https = server.Features.Get<IServerAddressesFeature>()?.Addresses
            .Select(BindingAddress.Parse)
            .FirstOrDefault(address => string.Equals(address.Scheme, Uri.UriSchemeHttps, StringComparison.OrdinalIgnoreCase) && !address.IsUnixPipe);
        return https is null ? null : new UriBuilder(Uri.UriSchemeHttps, request.Host.Host, https.Port, "/").Uri.ToString();
    }

    private sealed record StatsResponse(
        string Epoch, string Head, long Seq, string Time, IReadOnlyDictionary<string, TransportSnapshot> Transports, string? BenchReport,
        bool PublishKeyRequired, string? Https, long HeartbeatMs, bool ReaderTokenRequired);
}
