using System.Text.Json;

namespace RealtimeDemo.Log;

/// <summary>
/// The embedded event log: a bounded ring of the newest events, with a fresh epoch for every run of the host.
/// Appends are serialised by a lock; reads take no lock at all, and readers are woken after the lock is released.
/// </summary>
public sealed class InMemoryEventLog : IEventLog
{
    private readonly EventRing _ring;
    private readonly TimeProvider _time;
    private readonly Lock _appendLock = new();

    /// <param name="retention">How many of the newest events are kept for readers that resume.</param>
    /// <param name="time">The clock that stamps each event's <c>time</c>.</param>
    /// <param name="epoch">The stream's epoch; a new random one when omitted.</param>
    public InMemoryEventLog(int retention, TimeProvider time, string? epoch = null)
    {
        _ring = new EventRing(epoch ?? EventCursor.NewEpoch(), retention);
        _time = time;
    }

    public string Epoch => _ring.Epoch;

    public int Retention => _ring.Capacity;

    public EventCursor Head => _ring.Head;

    public AppendSignal Appended { get; } = new();

    public ValueTask<StoredEvent> AppendAsync(string type, JsonElement data, CancellationToken cancellationToken = default, string? by = null)
    {
        StoredEvent stored;
        lock (_appendLock)
        {
            stored = StoredEvent.Create(new EventCursor(Epoch, _ring.Head.Seq + 1), type, data, _time.GetUtcNow(), by);
            _ring.Add(stored);
        }

        // Outside the lock: waking every reader must not hold up the next publisher.
        Appended.Fire();
        return ValueTask.FromResult(stored);
    }

    public LogRead Read(EventCursor after, Span<StoredEvent> destination) => _ring.Read(after, destination);
}
