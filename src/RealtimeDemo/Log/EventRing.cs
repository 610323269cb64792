namespace RealtimeDemo.Log;

/// <summary>
/// A bounded window of the newest events of one epoch. Its log wakes readers (<see cref="IEventLog.Appended"/>)
/// once the events it adds are visible.
/// The in-memory log is this ring plus a counter; the Redis log keeps one per host as its local mirror of the stream.
/// </summary>
/// <remarks>
/// One writer at a time (the caller serialises <see cref="Add"/>); reads take no lock at all. Events arrive in
/// <c>seq</c> order, normally contiguous; a jump (a mirror that caught up after its stream was trimmed past it)
/// empties the window, so readers behind the jump are told they lost events instead of reading stale slots.
/// </remarks>
public sealed class EventRing
{
    private readonly StoredEvent?[] _slots;
    private readonly long _start;
    private StoredEvent? _newest;
    private long _oldest;

    /// <param name="epoch">The epoch of every event this ring holds.</param>
    /// <param name="capacity">How many of the newest events are kept.</param>
    /// <param name="start">
    /// The seq just before the epoch's first event: 0, except for a shared stream whose new epoch continues the
    /// counter of one that lost its last writes.
    /// </param>
    public EventRing(string epoch, int capacity, long start = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        if (!EventCursor.IsEpochText(epoch))
        {
            throw new ArgumentException("An epoch is 1-32 lower-case letters or digits.", nameof(epoch));
        }

        Epoch = epoch;
        _slots = new StoredEvent?[capacity];
        (_start, _oldest) = (start, start + 1);
    }

    public string Epoch { get; }

    public int Capacity => _slots.Length;

    /// <summary>The cursor of the newest event (the epoch's start, normally 0, while the ring is empty).</summary>
    public EventCursor Head => new(Epoch, Volatile.Read(ref _newest)?.Seq ?? _start);

    /// <summary>Adds the next event; readers see it at once (the caller then wakes those waiting).</summary>
    /// <exception cref="ArgumentException">The event is of another epoch, or not newer than <see cref="Head"/>.</exception>
    public void Add(StoredEvent stored)
    {
        var head = Volatile.Read(ref _newest)?.Seq ?? _start;
        if (stored.Cursor.Epoch != Epoch || stored.Seq <= head)
        {
            throw new ArgumentException($"Event {stored.Cursor} does not follow {Head}.", nameof(stored));
        }

        if (stored.Seq != head + 1)
        {
            // Nothing held is contiguous with the new event: forget it, so no reader mistakes it for what came before.
            for (var i = 0; i < _slots.Length; i++)
            {
                Volatile.Write(ref _slots[i], null);
            }

            Volatile.Write(ref _oldest, stored.Seq);
        }

        Volatile.Write(ref _slots[stored.Seq % _slots.Length], stored);

        Volatile.Write(ref _newest, stored);
    }

    /// <summary>
    /// Copies the events after <paramref name="after"/> into <paramref name="destination"/>, oldest first, as many as fit;
    /// the semantics of <see cref="IEventLog.Read"/>.
    /// </summary>
    public LogRead Read(EventCursor after, Span<StoredEvent> destination)
    {
        var gap = after.Epoch == Epoch ? GapReason.None : GapReason.EpochChanged;
        while (true)
        {
            var head = Volatile.Read(ref _newest)?.Seq ?? _start;
            if (gap == GapReason.None && after.Seq > head)
            {
                return new LogRead(0, after, GapReason.Ahead);
            }

            var oldest = Math.Max(Volatile.Read(ref _oldest), head - _slots.Length + 1);
            if (oldest > head + 1)
            {
                continue; // a jump is being added: its start is visible, its event not yet
            }

            var from = gap == GapReason.EpochChanged ? oldest : after.Seq + 1;
            if (from < oldest)
            {
                (from, gap) = (oldest, GapReason.Expired);
            }

            var count = (int)Math.Min(destination.Length, head - from + 1);
            if (TryCopy(from, destination[..count]))
            {
                return new LogRead(count, new EventCursor(Epoch, from + count - 1), gap);
            }

            // An append overwrote the slots while we copied: the reader fell out of the ring; read again from its new start.
            gap = gap == GapReason.EpochChanged ? gap : GapReason.Expired;
            after = new EventCursor(Epoch, from - 1);
        }
    }

    private bool TryCopy(long from, Span<StoredEvent> destination)
    {
        for (var i = 0; i < destination.Length; i++)
        {
            var stored = Volatile.Read(ref _slots[(from + i) % _slots.Length]);
            if (stored is null || stored.Seq != from + i)
            {
                return false;
            }

            destination[i] = stored;
        }

        return true;
    }
}
