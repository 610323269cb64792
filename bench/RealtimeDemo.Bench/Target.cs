using System.Net.Http.Json;
using System.Text.Json;

namespace RealtimeDemo.Bench;

/// <summary>
/// A server under test and its publisher: RealtimeDemo (the demo ticker, driven through <c>/api/ticker</c>) or the
/// baselines process (<c>/rate</c>). Either way events are published server-side, so the publisher is never the
/// bottleneck, and the bench can read the seq the stream has reached.
/// </summary>
public sealed class Target(Uri address, bool isBaseline, ServerProcess? process)
{
    public Uri Address { get; } = address;

    public bool IsBaseline { get; } = isBaseline;

    /// <summary>The server's process, when the bench started it (CPU and memory are then measured).</summary>
    public ServerProcess? Process { get; } = process;

    /// <summary>Sets the publishing rate (0 stops it) and returns the seq the stream has reached.</summary>
    public async Task<long> SetRateAsync(HttpClient http, double eventsPerSecond, CancellationToken cancellationToken)
    {
        using var response = await http.PutAsJsonAsync(new Uri(Address, IsBaseline ? "rate" : "api/ticker"), new { eventsPerSecond }, cancellationToken);
        response.EnsureSuccessStatusCode();
        return await SeqAsync(http, cancellationToken);
    }

    /// <summary>The seq of the newest event, and (for RealtimeDemo) its cursor, where clients start.</summary>
    public async Task<(long Seq, string? Cursor)> HeadAsync(HttpClient http, CancellationToken cancellationToken)
    {
        if (IsBaseline)
        {
            return (await SeqAsync(http, cancellationToken), null);
        }

        using var poll = JsonDocument.Parse(await http.GetStringAsync(new Uri(Address, "api/poll"), cancellationToken));
        var cursor = poll.RootElement.GetProperty("cursor").GetString()!;
        return (long.Parse(cursor[(cursor.LastIndexOf('-') + 1)..], System.Globalization.CultureInfo.InvariantCulture), cursor);
    }

    private async Task<long> SeqAsync(HttpClient http, CancellationToken cancellationToken)
    {
        using var state = JsonDocument.Parse(await http.GetStringAsync(new Uri(Address, IsBaseline ? "rate" : "api/stats"), cancellationToken));
        return state.RootElement.GetProperty("seq").GetInt64();
    }
}
