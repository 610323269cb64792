using System.Text.RegularExpressions;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Hosting;

/// <summary>
/// Runs alone: meters are process-wide, and a host's Prometheus exporter reports the same-named instruments of every
/// host in the process. In production that is the one host; here, hosts of tests running alongside would mix their
/// counts into this one's.
/// </summary>
[CollectionDefinition(nameof(MetricsTests), DisableParallelization = true)]
public sealed class MetricsCollection;

/// <summary>The per-transport counters, as <c>/metrics</c> serves them to Prometheus.</summary>
[Collection(nameof(MetricsTests))]
public sealed class MetricsTests : IAsyncDisposable
{
    private readonly RealtimeDemoApplication _app = new();

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    [Fact]
    public async Task MetricsAreServedInPrometheusFormat()
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();
        var start = await client.HeadCursorAsync(cancellationToken);
        await client.PublishManyAsync(2, cancellationToken);
        await client.PollAsync($"/api/poll?after={start}", cancellationToken);

        var metrics = await client.GetStringAsync("/metrics", cancellationToken);

        // The names the README gives, each series by transport; the poll above delivered the two events.
        Assert.Matches(new Regex("^realtime_events_delivered_total\\{[^}]*transport=\"short-poll\"[^}]*\\} 2$", RegexOptions.Multiline), metrics);
        Assert.Matches(new Regex("^realtime_requests_total\\{[^}]*transport=\"short-poll\"[^}]*\\} [1-9]", RegexOptions.Multiline), metrics);
        Assert.Matches(new Regex("^realtime_connections_open\\{[^}]*transport=\"sse\"[^}]*\\} 0$", RegexOptions.Multiline), metrics);
        Assert.Matches(new Regex("^realtime_connections_dropped_total\\{[^}]*transport=\"websocket\"[^}]*\\} 0$", RegexOptions.Multiline), metrics);
    }
}
