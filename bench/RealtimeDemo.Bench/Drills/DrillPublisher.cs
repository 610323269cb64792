using System.Text;
using System.Text.Json;

namespace RealtimeDemo.Bench.Drills;

/// <summary>
/// Publishes through nginx at a steady rate (POST /api/events), whatever host each lands on, and keeps the highest
/// seq stored: every client must receive every seq up to it. A publish that fails is counted and not retried (a
/// retry could store the event twice); the next one keeps the pace.
/// </summary>
public sealed class DrillPublisher(Uri proxy, double rate) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = proxy, Timeout = TimeSpan.FromSeconds(5) };
    private long _lastSeq = -1;
    private long _published;
    private long _failed;

    public long LastSeq => Interlocked.Read(ref _lastSeq);

    public long Published => Interlocked.Read(ref _published);

    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Publishes until <paramref name="stop"/>; late ticks are skipped rather than sent in a burst.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        var interval = TimeSpan.FromSeconds(1 / rate);
        var next = DateTime.UtcNow;
        for (var n = 0L; !stop.IsCancellationRequested; n++)
        {
            try
            {
                using var body = new StringContent("{\"type\":\"drill\",\"data\":{\"n\":" + n.ToString(System.Globalization.CultureInfo.InvariantCulture) + "}}", Encoding.UTF8, "application/json");
                using var response = await _http.PostAsync("api/events", body, stop);
                if (response.IsSuccessStatusCode)
                {
                    using var json = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(stop));
                    var seq = json.RootElement.GetProperty("seq").GetInt64();
                    Interlocked.Exchange(ref _lastSeq, Math.Max(LastSeq, seq));
                    Interlocked.Increment(ref _published);
                }
                else
                {
                    Interlocked.Increment(ref _failed);
                }
            }
            catch (Exception) when (!stop.IsCancellationRequested)
            {
                Interlocked.Increment(ref _failed);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            next = new DateTime(Math.Max((next + interval).Ticks, DateTime.UtcNow.Ticks - interval.Ticks), DateTimeKind.Utc);
            var wait = next - DateTime.UtcNow;
            if (wait > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(wait, stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    public void Dispose() => _http.Dispose();
}
