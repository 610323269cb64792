using System.Security.Cryptography;
using System.Text.Json;

namespace RealtimeDemo.Events;

/// <summary>
/// The embedded event log: a bounded ring of the newest events, with a fresh epoch for every run of the host.
/// Appends are serialised by a lock; reads take no lock at all.
/// </summary>
public sealed class InMemoryEventLog : IEventLog
{
    private readonly StoredEvent?[] _ring;
    private readonly TimeProvider _time;
    private readonly Lock _appendLock = new();
    private StoredEvent? _newest;
    private TaskCompletionSource _nextAppend = NewSignal();

    /// <param name="retention">How many of the newest events are kept for readers that resume.</param>
    /// <param name="time">The clock that stamps each event's <c>time</c>.</param>
    /// <param name="epoch">The stream's epoch; a new random one when omitted.</param>
    public InMemoryEventLog(int retention, TimeProvider time, string? epoch = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retention, 1);
        if (epoch is not null && !EventCursor.IsEpochText(epoch))
        {
            throw new ArgumentException("An epoch is 1-32 lower-case letters or digits.", nameof(epoch));
        }

        _ring = new StoredEvent?[retention];
        _time = time;
        Epoch = epoch ?? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
    }

    public string Epoch { get; }

    public int Retention => _ring.Length;

    public EventCursor Head => new(Epoch, Volatile.Read(ref _newest)?.Seq ?? 0);

    public Task NextAppend => Volatile.Read(ref _nextAppend).Task;

    public ValueTask<StoredEvent> AppendAsync(string type, JsonElement data, CancellationToken cancellationToken = default)
    {
        TaskCompletionSource appended;
        StoredEvent stored;
        lock (_appendLock)
        {
            var seq = (_newest?.Seq ?? 0) + 1;
            stored = StoredEvent.Create(new EventCursor(Epoch, seq), type, data, _time.GetUtcNow());
            _ring[seq % _ring.Length] = stored;

            // Publish the event before the new signal: a reader that sees the new signal must also see the event.
            Volatile.Write(ref _newest, stored);
            appended = _nextAppend;
            Volatile.Write(ref _nextAppend, NewSignal());
        }

        appended.SetResult();
        return ValueTask.FromResult(stored);
    }

    public LogRead Read(EventCursor after, Span<StoredEvent> destination)
    {
        var gap = after.Epoch == Epoch ? GapReason.None : GapReason.EpochChanged;
        while (true)
        {
            var head = Volatile.Read(ref _newest)?.Seq ?? 0;
            if (gap == GapReason.None && after.Seq > head)
            {
                return new LogRead(0, after, GapReason.Ahead);
            }

            var oldest = Math.Max(1, head - _ring.Length + 1);
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
            var stored = Volatile.Read(ref _ring[(from + i) % _ring.Length]);
            if (stored is null || stored.Seq != from + i)
            {
                return false;
            }

            destination[i] = stored;
        }

        return true;
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
