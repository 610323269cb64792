namespace RealtimeDemo.Log;

/// <summary>
/// "Something was appended": the one signal all of a log's readers wait on. The appender wakes every waiting reader
/// in one pass; each reader waits through its own reusable <see cref="AppendWaiter"/>, so a wait allocates nothing.
/// </summary>
/// <remarks>
/// A reader takes <see cref="Version"/>, <em>then</em> checks the log, and waits only when nothing lies after its
/// cursor. The wait is refused (it completes at once) if the signal fired since that version, so no append can fall
/// between the check and the wait.
/// </remarks>
public sealed class AppendSignal
{
    private readonly Lock _lock = new();
    private HashSet<AppendWaiter> _waiting = new(ReferenceEqualityComparer.Instance);
    private HashSet<AppendWaiter> _woken = new(ReferenceEqualityComparer.Instance);
    private TaskCompletionSource? _next;
    private long _version;

    // Calls to Fire not yet answered by a pass; the caller that raises it from 0 does the first pass.
    private int _requested;

    /// <summary>How many times the signal has fired.</summary>
    public long Version => Volatile.Read(ref _version);

    /// <summary>How many waiters the next firing wakes: each waiting reader once, however often its waits timed out.</summary>
    public int Listed
    {
        get
        {
            lock (_lock)
            {
                return _waiting.Count;
            }
        }
    }

    /// <summary>
    /// A task that completes when the signal next fires: for callers that wait rarely (it allocates). Take it, then
    /// check the log, as with <see cref="Version"/>.
    /// </summary>
    public Task Next
    {
        get
        {
            lock (_lock)
            {
                return (_next ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }
        }
    }

    /// <summary>
    /// Wakes every reader waiting now. Called after the appended events are visible to readers, outside any lock of
    /// the appender: waking is a pass over every waiting reader. Calls that come while one is waking are folded into
    /// one more pass, on the thread pool, so no appender is held waking readers for other appenders.
    /// </summary>
    public void Fire()
    {
        var requested = Interlocked.Increment(ref _requested);
        if (requested == 1)
        {
            Pass(requested);
        }
    }

    /// <summary>One pass, answering <paramref name="requested"/> calls; calls that came meanwhile get the next one.</summary>
    private void Pass(int requested)
    {
        HashSet<AppendWaiter> waking;
        TaskCompletionSource? next;
        lock (_lock)
        {
            Volatile.Write(ref _version, _version + 1);
            (waking, _waiting, _woken) = (_waiting, _woken, _waiting);
            (next, _next) = (_next, null);
        }

        // Outside the lock: readers register for the next firing while this one's are being woken.
        foreach (var waiter in waking)
        {
            waiter.Wake(appended: true);
        }

        waking.Clear();
        next?.SetResult();

        // Every call counted so far came before the version moved on, or is answered by one more pass.
        requested = Interlocked.Add(ref _requested, -requested);
        if (requested != 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static state => state.Signal.Pass(state.Requested), (Signal: this, Requested: requested), preferLocal: false);
        }
    }

    /// <summary>Lists a waiter for the next firing; false when the signal fired since <paramref name="version"/>.</summary>
    internal bool TryAdd(AppendWaiter waiter, long version)
    {
        lock (_lock)
        {
            if (_version != version)
            {
                return false;
            }

            _waiting.Add(waiter);
            return true;
        }
    }

    /// <summary>Takes a waiter that stops waiting for good off the list.</summary>
    internal void Remove(AppendWaiter waiter)
    {
        lock (_lock)
        {
            _waiting.Remove(waiter);
        }
    }
}
