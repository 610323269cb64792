namespace RealtimeDemo.Transports;

/// <summary>
/// When a connection must stop delivering: the expiry of the reader token it was opened with, or refreshed to. The
/// host's clock is the judge (<see cref="HasPassed"/>); a timer on the same clock cancels <see cref="Passed"/> at the
/// expiry, to wake a connection that is waiting for events. Once passed it stays passed: a refresh comes too late.
/// </summary>
internal sealed class ConnectionExpiry : IDisposable
{
    /// <summary>A connection without a token: it never expires, and holds no timer.</summary>
    public static readonly ConnectionExpiry Never = new();

    // The longest a timer is armed for at once: far expiries re-arm on the way (a timer takes at most ~49 days).
    private static readonly TimeSpan LongestArm = TimeSpan.FromDays(1);

    private readonly TimeProvider? _time;
    private readonly CancellationTokenSource? _passed;
    private readonly ITimer? _timer;
    private readonly Lock _lock = new();
    private long _expiresAtTicks; // UTC ticks: read without the lock, on every batch a connection sends
    private bool _hasPassed;

    private ConnectionExpiry()
    {
    }

    private ConnectionExpiry(DateTimeOffset expiresAt, TimeProvider time)
    {
        _time = time;
        _expiresAtTicks = expiresAt.UtcTicks;
        _passed = new CancellationTokenSource();
        _timer = time.CreateTimer(static state => ((ConnectionExpiry)state!).Check(arm: true), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        Check(arm: true);
    }

    /// <summary>A connection's expiry from its token's; <see cref="Never"/> for none.</summary>
    public static ConnectionExpiry Start(DateTimeOffset? expiresAt, TimeProvider time) =>
        expiresAt is { } at ? new ConnectionExpiry(at, time) : Never;

    /// <summary>The expiry now in force; null for a connection that never expires.</summary>
    public DateTimeOffset? ExpiresAt =>
        _time is null ? null : new DateTimeOffset(Volatile.Read(ref _expiresAtTicks), TimeSpan.Zero);

    /// <summary>Cancelled once the expiry has passed; never, for a connection without one.</summary>
    public CancellationToken Passed => _passed?.Token ?? CancellationToken.None;

    /// <summary>Whether the expiry has passed, by the clock now (the timer may not have fired yet).</summary>
    public bool HasPassed =>
        _time is not null
        && (Volatile.Read(ref _hasPassed) || (_time.GetUtcNow().UtcTicks >= Volatile.Read(ref _expiresAtTicks) && Check(arm: false)));

    /// <summary>
    /// Moves the expiry to a refreshed token's. False, and nothing moves, when the connection never expires, when its
    /// expiry has already passed (it is ending), or when <paramref name="expiresAt"/> has passed too.
    /// </summary>
    public bool TryMove(DateTimeOffset expiresAt)
    {
        if (_time is null || HasPassed || expiresAt <= _time.GetUtcNow())
        {
            return false;
        }

        lock (_lock)
        {
            if (_hasPassed)
            {
                return false;
            }

            Volatile.Write(ref _expiresAtTicks, expiresAt.UtcTicks);
        }

        // Re-arms the timer for the new expiry.
        Check(arm: true);
        return true;
    }

    /// <summary>
    /// Marks the expiry passed when the clock says so (cancelling <see cref="Passed"/>); otherwise, with
    /// <paramref name="arm"/>, arms the timer for what is left. True when passed.
    /// </summary>
    private bool Check(bool arm)
    {
        lock (_lock)
        {
            if (_hasPassed)
            {
                return true;
            }

            var left = TimeSpan.FromTicks(_expiresAtTicks - _time!.GetUtcNow().UtcTicks);
            if (left > TimeSpan.Zero)
            {
                // A timer that fires early, or for an expiry since moved, simply checks again when it is due.
                if (arm)
                {
                    _timer!.Change(left < LongestArm ? left : LongestArm, Timeout.InfiniteTimeSpan);
                }

                return false;
            }

            Volatile.Write(ref _hasPassed, true);
        }

        // Outside the lock: cancelling runs the waiters' callbacks.
        _passed!.Cancel();
        return true;
    }

    // The token source is left undisposed: a timer callback in flight may still cancel it, and one with no timer of its
    // own holds nothing that needs disposing.
    public void Dispose() => _timer?.Dispose();
}
