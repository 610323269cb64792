using System.Globalization;
using System.Security.Cryptography;

namespace RealtimeDemo.Bench.Baselines.Events;

/// <summary>
/// The one source of events: at <see cref="EventsPerSecond"/> it makes a <c>tick</c> with the next seq
/// (1, 2, 3 … with no holes), encodes it once and hands it to every baseline.
/// </summary>
public sealed partial class Publisher(IEnumerable<IEventSink> sinks, ILogger<Publisher> logger) : BackgroundService
{
    /// <summary>The highest rate: PeriodicTimer's period cannot go below 1 ms.</summary>
    public const double MaxEventsPerSecond = 1000;

    /// <summary>The lowest rate besides 0 (off), as RealtimeDemo's ticker.</summary>
    public const double MinEventsPerSecond = 0.01;

    private readonly IEventSink[] _sinks = [.. sinks];
    private readonly Lock _lock = new();
    private double _eventsPerSecond;
    private long _seq;
    private PeriodicTimer? _timer;
    private TaskCompletionSource _rateChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Fixed for the process, like RealtimeDemo's in-memory epoch: short lower-case hex.</summary>
    public string Epoch { get; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    public static bool IsValidRate(double eventsPerSecond) =>
        eventsPerSecond == 0 || eventsPerSecond is >= MinEventsPerSecond and <= MaxEventsPerSecond;

    /// <summary>The rate and the seq of the last event published, read together.</summary>
    public (double EventsPerSecond, long Seq) State
    {
        get
        {
            lock (_lock)
            {
                return (_eventsPerSecond, _seq);
            }
        }
    }

    /// <summary>
    /// Changes the rate at once (the current period is abandoned) and returns the state after it. Publishing
    /// happens under the same lock, so once this returns with 0 the returned seq is final: the bench reads
    /// "the last event" from it.
    /// </summary>
    public (double EventsPerSecond, long Seq) SetRate(double eventsPerSecond)
    {
        if (!IsValidRate(eventsPerSecond))
        {
            throw new ArgumentOutOfRangeException(nameof(eventsPerSecond), eventsPerSecond, "A rate is 0 (off) or 0.01 to 1000 events per second.");
        }

        TaskCompletionSource changed;
        (double, long) state;
        lock (_lock)
        {
            _eventsPerSecond = eventsPerSecond;

            // Disposing the timer ends the publishing loop's current wait; it starts a new timer at the new rate.
            _timer?.Dispose();
            _timer = null;
            (changed, _rateChanged) = (_rateChanged, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            state = (_eventsPerSecond, _seq);
        }

        changed.SetResult();
        return state;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var random = new Random();
        var price = 100m;
        while (!stoppingToken.IsCancellationRequested)
        {
            Task rateChanged;
            PeriodicTimer? timer = null;
            double rate;
            lock (_lock)
            {
                (rateChanged, rate) = (_rateChanged.Task, _eventsPerSecond);
                if (rate > 0)
                {
                    _timer = timer = new PeriodicTimer(TimeSpan.FromSeconds(1 / rate));
                }
            }

            if (timer is null)
            {
                await rateChanged.WaitAsync(stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                continue;
            }

            using (timer)
            {
                try
                {
                    // As RealtimeDemo's ticker: publish what the clock says is due, so a late timer on a busy machine
                    // does not lower the rate (PeriodicTimer folds missed ticks into one).
                    var started = System.Diagnostics.Stopwatch.GetTimestamp();
                    long published = 0;
                    var current = true;
                    while (current && await timer.WaitForNextTickAsync(stoppingToken))
                    {
                        var due = (long)((System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds * rate) + 1e-9);
                        for (published = Math.Max(published, due - (long)Math.Ceiling(rate)); current && published < due; published++)
                        {
                            var change = Math.Round((decimal)(random.NextDouble() - 0.5) * 2m, 2);
                            price = Math.Max(1m, price + change);
                            current = TryPublish(timer, new TickData("ACME", price, change));
                        }
                    }
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
            }
        }
    }

    private bool TryPublish(PeriodicTimer timer, TickData data)
    {
        lock (_lock)
        {
            // A rate change between the tick and here replaced the timer: this tick belongs to the old rate.
            if (!ReferenceEquals(_timer, timer))
            {
                return false;
            }

            var seq = _seq + 1;
            var ev = EncodedEvent.Create(new BaselineEvent(string.Create(CultureInfo.InvariantCulture, $"{Epoch}-{seq}"), seq, "tick", data, EncodedEvent.FormatTime(DateTimeOffset.UtcNow)));
            foreach (var sink in _sinks)
            {
                try
                {
                    sink.Publish(ev);
                }
                catch (Exception e)
                {
                    // One broken baseline must not stop the others (or leave a hole in the seq).
                    LogSinkFailed(logger, e, sink.GetType().Name, seq);
                }
            }

            _seq = seq;
            return true;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Sink {Sink} failed to take event {Seq}")]
    private static partial void LogSinkFailed(ILogger logger, Exception exception, string sink, long seq);
}
