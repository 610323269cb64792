namespace RealtimeDemo.Ticker;

/// <summary>
/// A rate of ticks per second that can change while running (0 pauses), for publishers that must hold their rate:
/// the demo ticker here, and the bench's baseline publisher, which compiles this same file.
/// </summary>
/// <remarks>
/// A busy machine fires a timer late, and <see cref="PeriodicTimer"/> folds missed ticks into one; so the ticks are
/// counted from the clock instead of from the timer's callbacks (at most a second's backlog at once after a stall).
/// The timer only says when to look.
/// </remarks>
public sealed class SteadyRate(double eventsPerSecond, TimeProvider time)
{
    /// <summary>
    /// The highest rate. PeriodicTimer's period cannot go below 1 ms, so above 1,000 a second each firing brings
    /// several ticks (counted from the clock, as every firing's are).
    /// </summary>
    public const double MaxEventsPerSecond = 10_000;

    /// <summary>The lowest rate besides 0 (off): one tick per 100 s. Slower periods overflow the timer.</summary>
    public const double MinEventsPerSecond = 0.01;

    private static readonly TimeSpan ShortestPeriod = TimeSpan.FromMilliseconds(1);

    private readonly Lock _lock = new();
    private double _eventsPerSecond = IsValid(eventsPerSecond) ? eventsPerSecond : throw OutOfRange(eventsPerSecond);
    private long _generation;
    private PeriodicTimer? _timer;
    private long _started;
    private long _counted;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Whether <paramref name="eventsPerSecond"/> is 0 (off) or between the bounds.</summary>
    public static bool IsValid(double eventsPerSecond) =>
        eventsPerSecond == 0 || eventsPerSecond is >= MinEventsPerSecond and <= MaxEventsPerSecond;

    /// <summary>Ticks per second now; setting it takes effect at once (the current interval is abandoned).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The rate is neither 0 nor between the bounds.</exception>
    public double EventsPerSecond
    {
        get => Volatile.Read(ref _eventsPerSecond);
        set
        {
            if (!IsValid(value))
            {
                throw OutOfRange(value);
            }

            TaskCompletionSource changed;
            PeriodicTimer? replaced;
            lock (_lock)
            {
                Volatile.Write(ref _eventsPerSecond, value);
                _generation++;
                (replaced, _timer) = (_timer, null);
                (changed, _changed) = (_changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            }

            // Outside the lock, and after the state is new: disposing ends the current wait, whose continuation may
            // run right here, and the next wait starts a timer at the new rate.
            replaced?.Dispose();
            changed.SetResult();
        }
    }

    /// <summary>Increases with every rate change: a tick counted under an older generation belongs to an older rate.</summary>
    public long Generation => Interlocked.Read(ref _generation);

    /// <summary>
    /// Waits (through pauses) until at least one tick is due at the current rate; returns how many fell due since
    /// the last call, and the generation of the rate they belong to. Throws when <paramref name="cancellationToken"/> fires.
    /// </summary>
    public async Task<(long Due, long Generation)> WaitForTicksAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task changed;
            PeriodicTimer? timer;
            double rate;
            long generation;
            lock (_lock)
            {
                (changed, rate, generation) = (_changed.Task, _eventsPerSecond, _generation);
                if (rate > 0 && _timer is null)
                {
                    // The start is read before the timer exists: its periods count from no earlier than that.
                    (_started, _counted) = (time.GetTimestamp(), 0);
                    _timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Max(1 / rate, ShortestPeriod.TotalSeconds)), time);
                }

                timer = _timer;
            }

            if (timer is null)
            {
                await changed.WaitAsync(cancellationToken);
                continue;
            }

            if (!await timer.WaitForNextTickAsync(cancellationToken))
            {
                continue; // the rate changed while waiting
            }

            lock (_lock)
            {
                if (generation != _generation)
                {
                    continue;
                }

                // Rounded, not truncated: a timer fires up to a millisecond before the clock says its period is over,
                // and at a low rate a truncated count would put the tick off by a whole period (past the backlog cap:
                // dropped). Each firing counts the tick nearest to it.
                var exact = time.GetElapsedTime(_started).TotalSeconds * rate;
                var due = (long)Math.Round(exact, MidpointRounding.AwayFromZero);
                var ticks = Math.Min(due - _counted, (long)Math.Ceiling(rate));

                // A backlog past the cap is dropped, but only ticks whose time has passed: one counted early by the
                // rounding is left for the next firing.
                _counted = Math.Max(_counted + ticks, (long)exact);
                if (ticks > 0)
                {
                    return (ticks, generation);
                }
            }
        }
    }

    private static ArgumentOutOfRangeException OutOfRange(double value) =>
        new(nameof(EventsPerSecond), value, $"A rate is 0 (off) or {MinEventsPerSecond} to {MaxEventsPerSecond} events per second.");
}
