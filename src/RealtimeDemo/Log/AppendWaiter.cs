using System.Threading.Tasks.Sources;

namespace RealtimeDemo.Log;

/// <summary>
/// One reader's wait for the next append, with a timeout and its connection's cancellation, reused for every wait of
/// the reader. A long-lived stream waits once per event it sends: a fresh task, timer and cancellation registration
/// per wait would be garbage at the rate of deliveries. Here the timer and the registration are made once, and a
/// wait is a version check and a place on the signal's list. One wait at a time.
/// </summary>
public sealed class AppendWaiter : IValueTaskSource<bool>, IDisposable
{
    private const int Idle = 0;
    private const int Waiting = 1;
    private const int Woken = 2;
    private const int Disposed = 3;

    private readonly AppendSignal _signal;
    private readonly TimeProvider _time;
    private readonly CancellationToken _cancellationToken;
    private readonly CancellationTokenRegistration _cancellation;
    private readonly TimeSpan _timeout;
    private readonly ITimer? _timer;
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private int _timerArmed;
    private long _waitStarted; // a timestamp of _time
    private int _state = Idle;

    // The signal's version this waiter is listed for; a wait at the same version is already listed.
    private long _listedAt = -1;

    /// <param name="signal">The signal of the log read.</param>
    /// <param name="time">The clock timeouts are measured on.</param>
    /// <param name="timeout">How long each wait lasts at most; <see cref="Timeout.InfiniteTimeSpan"/> for no limit.</param>
    /// <param name="cancellationToken">Ends every wait, for good: the reader's connection or host is going.</param>
    public AppendWaiter(AppendSignal signal, TimeProvider time, TimeSpan timeout, CancellationToken cancellationToken)
    {
        _signal = signal;
        _time = time;
        _timeout = timeout;
        if (timeout != Timeout.InfiniteTimeSpan)
        {
            _timer = time.CreateTimer(static state => ((AppendWaiter)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        _cancellationToken = cancellationToken;
        _cancellation = cancellationToken.UnsafeRegister(static state => ((AppendWaiter)state!).Wake(appended: false), this);
    }

    /// <summary>
    /// Waits until the signal fires after <paramref name="version"/>: true then, at once if it already has; false when
    /// the timeout passed first. Throws <see cref="OperationCanceledException"/> once cancelled.
    /// </summary>
    public ValueTask<bool> WaitAsync(long version)
    {
        if (Volatile.Read(ref _state) is Waiting or Disposed)
        {
            throw new InvalidOperationException("One wait at a time, and none after disposal.");
        }

        _core.Reset();
        if (_timer is not null)
        {
            // Before the state says "waiting", so a timer firing for this wait measures from its start. (A firing that
            // checked an earlier wait can still end this one at once, as a timeout: for SSE, one early heartbeat.)
            Volatile.Write(ref _waitStarted, _time.GetTimestamp());
        }

        // A full fence: the signal, which bumps its version and then wakes, either sees this waiter waiting or is seen
        // to have fired below.
        Interlocked.Exchange(ref _state, Waiting);
        if (_listedAt != version)
        {
            if (!_signal.TryAdd(this, version))
            {
                Wake(appended: true);
                return new ValueTask<bool>(this, _core.Version);
            }

            _listedAt = version;
        }
        else if (_signal.Version != version)
        {
            // Listed by an earlier wait that timed out, and the signal fired since: it may have passed over this
            // waiter while it was between waits.
            Wake(appended: true);
            return new ValueTask<bool>(this, _core.Version);
        }

        if (_cancellationToken.IsCancellationRequested)
        {
            Wake(appended: false);
        }
        else if (_timer is not null && Interlocked.Exchange(ref _timerArmed, 1) == 0)
        {
            // The start is noted on every wait, but the timer is only armed when it is not already: a stream that
            // sends an event every few milliseconds would otherwise re-arm it (a lock on the runtime's timer queue)
            // once per event. Every wait lasts as long, so an armed timer never fires after this wait's end; one that
            // fires before it re-arms for what is left.
            _timer.Change(_timeout, Timeout.InfiniteTimeSpan);
        }

        return new ValueTask<bool>(this, _core.Version);
    }

    private void OnTimer()
    {
        // Disarmed first (a full fence): a wait that starts from here on arms the timer itself.
        Interlocked.Exchange(ref _timerArmed, 0);
        if (Volatile.Read(ref _state) != Waiting)
        {
            return;
        }

        var left = _timeout - _time.GetElapsedTime(Volatile.Read(ref _waitStarted));
        if (left <= TimeSpan.Zero)
        {
            Wake(appended: false);
        }
        else if (Interlocked.Exchange(ref _timerArmed, 1) == 0)
        {
            _timer!.Change(left, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Ends the wait in progress, if any: <paramref name="appended"/> true for the signal, false for a timeout or cancellation.</summary>
    internal void Wake(bool appended)
    {
        if (Interlocked.CompareExchange(ref _state, Woken, Waiting) == Waiting)
        {
            _core.SetResult(appended);
        }
    }

    public bool GetResult(short token)
    {
        var appended = _core.GetResult(token);
        _cancellationToken.ThrowIfCancellationRequested();
        return appended;
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    public void Dispose()
    {
        Volatile.Write(ref _state, Disposed);
        _cancellation.Dispose();
        _timer?.Dispose();
        _signal.Remove(this);
    }
}
