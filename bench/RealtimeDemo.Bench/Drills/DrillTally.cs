using System.Diagnostics;

namespace RealtimeDemo.Bench.Drills;

/// <summary>The drill's clock: seconds from the first event published (negative before it).</summary>
public sealed class DrillClock
{
    private long _origin = long.MaxValue;

    public bool Started => Volatile.Read(ref _origin) != long.MaxValue;

    public void Start() => Volatile.Write(ref _origin, Stopwatch.GetTimestamp());

    public double Seconds => Started ? SecondsAt(Stopwatch.GetTimestamp()) : double.NegativeInfinity;

    public double SecondsAt(long timestamp) => (timestamp - Volatile.Read(ref _origin)) / (double)Stopwatch.Frequency;
}

/// <summary>
/// What one technique's clients of a drill counted, together: totals, and per second (per 100 ms for connects) from
/// the clock's start. Thread-safe; recording allocates nothing but a resume time.
/// </summary>
public sealed class DrillTally(DrillClock clock)
{
    private const int MaxSeconds = 3_600;

    private readonly long[] _deliveries = new long[MaxSeconds];
    private readonly long[] _connectsPerTenth = new long[MaxSeconds * 10];
    private readonly List<double> _resumeMs = [];
    private long _delivered, _lost, _duplicated, _gapSignals, _reconnects, _refused;
    private int _cut;

    public DrillClock Clock { get; } = clock;

    public long Delivered => Interlocked.Read(ref _delivered);

    public long Lost => Interlocked.Read(ref _lost);

    public long Duplicated => Interlocked.Read(ref _duplicated);

    public long GapSignals => Interlocked.Read(ref _gapSignals);

    public long Reconnects => Interlocked.Read(ref _reconnects);

    public long Refused => Interlocked.Read(ref _refused);

    public int Cut => Volatile.Read(ref _cut);

    public void Deliver()
    {
        Interlocked.Increment(ref _delivered);
        if (Slot(1) is { } second)
        {
            Interlocked.Increment(ref _deliveries[second]);
        }
    }

    /// <summary>A TCP connection nginx accepted.</summary>
    public void Connect()
    {
        if (Slot(10) is { } tenth)
        {
            Interlocked.Increment(ref _connectsPerTenth[tenth]);
        }
    }

    public void Lose(long count) => Interlocked.Add(ref _lost, count);

    public void Duplicate() => Interlocked.Increment(ref _duplicated);

    public void Gap() => Interlocked.Increment(ref _gapSignals);

    public void Reconnect() => Interlocked.Increment(ref _reconnects);

    public void Refuse() => Interlocked.Increment(ref _refused);

    /// <summary>A client lost its connection to a cut.</summary>
    public void CutOne() => Interlocked.Increment(ref _cut);

    /// <summary>A cut client received again, <paramref name="ms"/> after the cut.</summary>
    public void Resume(double ms)
    {
        lock (_resumeMs)
        {
            _resumeMs.Add(ms);
        }
    }

    public int Resumed
    {
        get
        {
            lock (_resumeMs)
            {
                return _resumeMs.Count;
            }
        }
    }

    public ResumeSummary? ResumeSummary()
    {
        double[] sorted;
        lock (_resumeMs)
        {
            sorted = [.. _resumeMs.Order()];
        }

        return sorted.Length == 0 ? null : new ResumeSummary(Rank(sorted, 0.50), Rank(sorted, 0.99), Math.Round(sorted[^1], 0));
    }

    /// <summary>Deliveries per whole second, for <paramref name="seconds"/> seconds.</summary>
    public long[] DeliveriesPerSecond(int seconds) => [.. _deliveries.Take(seconds)];

    /// <summary>TCP connects per whole second, for <paramref name="seconds"/> seconds.</summary>
    public long[] ConnectsPerSecond(int seconds) =>
        [.. Enumerable.Range(0, seconds).Select(second => _connectsPerTenth.Skip(second * 10).Take(10).Sum())];

    /// <summary>The busiest 100 ms of connects, as a rate per second.</summary>
    public double PeakConnectsPerSecond() => _connectsPerTenth.Max() * 10;

    public long DeliveriesIn(int second) => second is >= 0 and < MaxSeconds ? Interlocked.Read(ref _deliveries[second]) : 0;

    // The slot of now, at `perSecond` slots per second; none before the clock starts or past its range.
    private int? Slot(int perSecond)
    {
        var seconds = Clock.Seconds;
        return seconds >= 0 && seconds < MaxSeconds ? (int)(seconds * perSecond) : null;
    }

    // Nearest rank, whole milliseconds.
    private static double Rank(double[] sorted, double q) =>
        Math.Round(sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)], 0);
}
