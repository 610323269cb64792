using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace RealtimeDemo.Bench;

/// <summary>
/// A server under test and its publisher: RealtimeDemo (the demo ticker, driven through <c>/api/ticker</c>) or the
/// baselines process (<c>/rate</c>). Either way events are published server-side, so the publisher is never the
/// bottleneck, and the bench can read the seq the stream has reached. Controlled over <see cref="Address"/>; the TLS
/// rows' clients connect to <see cref="SecureAddress"/>.
/// </summary>
public sealed class Target(Uri address, bool isBaseline, ServerProcess? process, Uri? secureAddress = null, BenchCertificate? certificate = null)
{
    public Uri Address { get; } = address;

    /// <summary>Its https:// address, if it has one.</summary>
    public Uri? SecureAddress { get; } = secureAddress;

    /// <summary>The one certificate TLS clients trust (the one the bench started the host with); null: the system's trust.</summary>
    public BenchCertificate? Certificate { get; } = certificate;

    public bool IsBaseline { get; } = isBaseline;

    /// <summary>The server's process, when the bench started it (CPU and memory are then measured).</summary>
    public ServerProcess? Process { get; } = process;

    /// <summary>Sets the publishing rate (0 stops it) and returns the seq the stream has reached.</summary>
    public async Task<long> SetRateAsync(HttpClient http, double eventsPerSecond, CancellationToken cancellationToken)
    {
        using var response = await http.PutAsJsonAsync(new Uri(Address, IsBaseline ? "rate" : "api/ticker"), new { eventsPerSecond }, cancellationToken);
        if (response.StatusCode == HttpStatusCode.Forbidden && !IsBaseline)
        {
            throw new InvalidOperationException(
                $"{Address} does not let the bench set its ticker's rate (PUT /api/ticker: 403). Start that host with Realtime__TickerAdjustable=true.");
        }

        response.EnsureSuccessStatusCode();
        return (await HeadAsync(http, cancellationToken)).Seq;
    }

    /// <summary>The seq of the newest event, and (for RealtimeDemo) its cursor, where clients start.</summary>
    public async Task<(long Seq, string? Cursor)> HeadAsync(HttpClient http, CancellationToken cancellationToken)
    {
        // RealtimeDemo's /api/stats and the baselines' /rate both tell the seq; only RealtimeDemo has cursors.
        using var state = JsonDocument.Parse(await http.GetStringAsync(new Uri(Address, IsBaseline ? "rate" : "api/stats"), cancellationToken));
        var root = state.RootElement;
        return (root.GetProperty("seq").GetInt64(), root.TryGetProperty("head", out var head) ? head.GetString() : null);
    }
}
