using System.Text.Json;

namespace RealtimeDemo.Bench;

/// <summary>
/// What every client of one run received: a shared latency histogram (0.1 ms buckets, lock-free) and per-client seq
/// tracking for lost and duplicated events. Recording allocates nothing, so the load generator stays light.
/// </summary>
public sealed class Recorder
{
    private const double BucketMs = 0.1;
    private const int Buckets = 200_000; // 20 s; slower deliveries land in the last bucket

    private readonly long[] _histogram = new long[Buckets];
    private long _delivered;
    private double _maxMs;

    /// <summary>The first seq of the run: events before it are not counted.</summary>
    public long FirstSeq { get; set; } = long.MaxValue;

    private volatile bool _measuring;

    /// <summary>
    /// Opens the measured window: deliveries and their latencies count from now on, the same window as the wire's bytes
    /// and the server's CPU. Every event, the warm-up's too, is checked for loss and duplication from
    /// <see cref="FirstSeq"/>.
    /// </summary>
    public void StartMeasuring() => _measuring = true;

    /// <summary>Closes the measured window: later deliveries are checked, not counted.</summary>
    public void StopMeasuring() => _measuring = false;

    public long Delivered => Interlocked.Read(ref _delivered);

    /// <summary>Records one delivery for <paramref name="client"/>, from the event's JSON (<c>seq</c> and <c>time</c>).</summary>
    public void Record(ClientProgress client, ReadOnlySpan<byte> eventJson)
    {
        if (!TryReadSeqAndTime(eventJson, out var seq, out var time))
        {
            return;
        }

        Record(client, seq, time);
    }

    public void Record(ClientProgress client, long seq, DateTime time)
    {
        if (seq < FirstSeq)
        {
            return;
        }

        // A duplicate is counted as such, not as a delivery: it would lower the cost per delivery it did not make.
        if (!client.Saw(seq, FirstSeq) || !_measuring)
        {
            return;
        }

        var latencyMs = Math.Max(0, (DateTime.UtcNow - time).TotalMilliseconds);
        Interlocked.Increment(ref _histogram[Math.Min(Buckets - 1, (int)(latencyMs / BucketMs))]);
        Interlocked.Increment(ref _delivered);
        double max;
        while (latencyMs > (max = Volatile.Read(ref _maxMs)) && Interlocked.CompareExchange(ref _maxMs, latencyMs, max) != max)
        {
        }
    }

    public LatencySummary Summary() => new(Percentile(0.50), Percentile(0.95), Percentile(0.99), Math.Round(Volatile.Read(ref _maxMs), 1));

    /// <summary>The distribution in coarse buckets for the report (bounds in ms).</summary>
    public IReadOnlyList<LatencyBucket> Histogram()
    {
        double[] bounds = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 20000];
        var counts = new long[bounds.Length];
        for (var i = 0; i < Buckets; i++)
        {
            var ms = (i + 1) * BucketMs;
            var slot = Array.FindIndex(bounds, bound => ms <= bound + 1e-9);
            counts[slot < 0 ? bounds.Length - 1 : slot] += _histogram[i];
        }

        return bounds.Select((bound, i) => new LatencyBucket(bound, counts[i])).ToList();
    }

    private double Percentile(double q)
    {
        var total = Delivered;
        if (total == 0)
        {
            return 0;
        }

        var target = (long)Math.Ceiling(q * total);
        long seen = 0;
        for (var i = 0; i < Buckets; i++)
        {
            seen += _histogram[i];
            if (seen >= target)
            {
                return Math.Round((i + 1) * BucketMs, 1);
            }
        }

        return Buckets * BucketMs;
    }

    /// <summary>Parses the wire's <c>2026-11-23T18:00:00.123Z</c> without allocating.</summary>
    public static bool TryParseWireTime(ReadOnlySpan<byte> text, out DateTime time)
    {
        time = default;
        if (text.Length != 24 || text[4] != '-' || text[10] != 'T' || text[19] != '.' || text[23] != 'Z')
        {
            return false;
        }

        time = new DateTime(
            Number(text, 0, 4), Number(text, 5, 2), Number(text, 8, 2), Number(text, 11, 2), Number(text, 14, 2), Number(text, 17, 2), Number(text, 20, 3),
            DateTimeKind.Utc);
        return true;
    }

    private static int Number(ReadOnlySpan<byte> text, int start, int length)
    {
        var value = 0;
        foreach (var digit in text.Slice(start, length))
        {
            value = (value * 10) + (digit - '0');
        }

        return value;
    }

    /// <summary>Reads the top-level <c>seq</c> and <c>time</c> of an event; false for control messages.</summary>
    public static bool TryReadSeqAndTime(ReadOnlySpan<byte> json, out long seq, out DateTime time)
    {
        (seq, time) = (-1, default);
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("seq"u8))
            {
                reader.Read();
                seq = reader.GetInt64();
            }
            else if (reader.ValueTextEquals("time"u8))
            {
                reader.Read();
                if (!TryParseWireTime(reader.ValueSpan, out time))
                {
                    return false;
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return seq >= 0 && time != default;
    }
}

/// <summary>One client's position: the next seq it expects, and what it lost or saw twice.</summary>
public sealed class ClientProgress
{
    private long _next;

    public long Lost { get; private set; }

    public long Duplicated { get; private set; }

    /// <summary>The highest seq seen so far (-1 before any).</summary>
    public long Last => _next - 1;

    /// <summary>Notes <paramref name="seq"/>; false when it was seen before (a duplicate, not a delivery).</summary>
    public bool Saw(long seq, long firstSeq)
    {
        if (_next == 0)
        {
            _next = firstSeq;
        }

        if (seq < _next)
        {
            Duplicated++;
            return false;
        }

        Lost += seq - _next;
        _next = seq + 1;
        return true;
    }

    /// <summary>At the end: everything up to <paramref name="lastSeq"/> not seen is lost.</summary>
    public void Finish(long lastSeq, long firstSeq)
    {
        if (_next == 0)
        {
            _next = firstSeq;
        }

        if (lastSeq >= _next)
        {
            Lost += lastSeq - _next + 1;
            _next = lastSeq + 1;
        }
    }
}
