using System.Text;
using System.Text.Json;

namespace RealtimeDemo.Bench.Drills;

/// <summary>
/// Publishes at a steady rate (POST /api/events) to each of <paramref name="targets"/> in turn (nginx alone, whatever
/// host each lands on; or every host of a fleet), and keeps the highest seq stored: every client must receive every
/// seq up to it. A publish that fails is counted and not retried (a retry could store the event twice); the next one
/// keeps the pace.
/// </summary>
public sealed class DrillPublisher(IReadOnlyList<Uri> targets, double rate) : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };
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
                // Not cancelled once sent (the client's timeout bounds it): a publish cut short could be stored unseen,
                // and its seq would be missing from the last one every client is held to.
                using var response = await _http.PostAsync(new Uri(targets[(int)(n % targets.Count)], "api/events"), body, CancellationToken.None);
                if (response.IsSuccessStatusCode)
                {
                    using var json = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(CancellationToken.None));
                    var seq = json.RootElement.GetProperty("seq").GetInt64();
                    Interlocked.Exchange(ref _lastSeq, Math.Max(LastSeq, seq));
                    Interlocked.Increment(ref _published);
                }
                else
                {
                    Interlocked.Increment(ref _failed);
                }
            }
            catch (Exception)
            {
                // Refused, cut or timed out: a host down in a drill.
                Interlocked.Increment(ref _failed);
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
