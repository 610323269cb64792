using System.Diagnostics.CodeAnalysis;
using RealtimeDemo.Http;
using RealtimeDemo.Log;

namespace RealtimeDemo.Transports;

/// <summary>
/// One client's reader of the log: its cursor, the batch it reads into, and the wait for more.
/// Every transport is this loop with a different way of writing what it read.
/// </summary>
/// <param name="longLived">
/// True for streams: the batch starts small and grows only when a read fills it, since most wakes bring an event or
/// two and idle connections should hold little. Polls read once, and get a whole batch at once.
/// </param>
internal sealed class CursorReader(IEventLog log, EventCursor cursor, int batchSize, TimeProvider time, bool longLived = false) : IDisposable
{
    private StoredEvent[] _batch = new StoredEvent[longLived ? Math.Min(2, batchSize) : batchSize];

    // Made at the first wait, with that wait's timeout and token; reused by every later one.
    private AppendWaiter? _waiter;
    private TimeSpan _waitTimeout;
    private CancellationToken _waitToken;

    public EventCursor Cursor { get; private set; } = cursor;

    /// <summary>Reads the next batch after the cursor and moves the cursor past it.</summary>
    public (ReadOnlyMemory<StoredEvent> Events, GapReason Gap) Read()
    {
        var read = log.Read(Cursor, _batch);
        Cursor = read.Next;
        var events = _batch.AsMemory(0, read.Count);
        if (read.Count == _batch.Length && _batch.Length < batchSize)
        {
            // A reader that is behind gets larger batches from the next read on.
            _batch = new StoredEvent[Math.Min(batchSize, _batch.Length * 8)];
        }

        return (events, read.Gap);
    }

    /// <summary>
    /// Where a client stands after a gap and the <paramref name="events"/> read with it, not yet sent: just before the
    /// first of them (of their epoch), so a client that reconnects from there resumes cleanly.
    /// </summary>
    public EventCursor ResumedFrom(ReadOnlyMemory<StoredEvent> events) =>
        events.IsEmpty ? Cursor : events.Span[0].Cursor with { Seq = events.Span[0].Seq - 1 };

    /// <summary>
    /// Waits until the log holds something after the cursor: true when it does, false when
    /// <paramref name="timeout"/> passed first. Throws when <paramref name="cancellationToken"/> fires. Every wait
    /// of one reader passes the same timeout and token.
    /// </summary>
    public ValueTask<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var version = log.Appended.Version;
        var head = log.Head;

        // Not "head != cursor": a cursor may stand ahead of this host's head (another host of a shared log issued
        // it a moment ago), and then there is nothing to read until the next append here.
        if (head.Epoch != Cursor.Epoch || head.Seq > Cursor.Seq)
        {
            return ValueTask.FromResult(true);
        }

        if (_waiter is null)
        {
            _waiter = new AppendWaiter(log.Appended, time, timeout, cancellationToken);
            (_waitTimeout, _waitToken) = (timeout, cancellationToken);
        }
        else if (timeout != _waitTimeout || cancellationToken != _waitToken)
        {
            throw new ArgumentException("Every wait of one reader passes the timeout and token of its first.");
        }

        return _waiter.WaitAsync(version);
    }

    public void Dispose() => _waiter?.Dispose();
}

/// <summary>Reads the <c>after</c> cursor of a request, the same way on every transport.</summary>
internal static class CursorQuery
{
    /// <summary>
    /// Resolves a client's cursor: absent means "from now" (the log's head); malformed, or ahead of the
    /// newest event of this epoch, is a <c>400</c> problem naming <paramref name="field"/>.
    /// </summary>
    public static bool TryResolve(string? text, string field, IEventLog log, out EventCursor cursor, [NotNullWhen(false)] out IResult? problem)
    {
        problem = null;
        if (string.IsNullOrEmpty(text))
        {
            cursor = log.Head;
            return true;
        }

        if (!EventCursor.TryParse(text, out cursor))
        {
            problem = Problems.Invalid(field, "is not a cursor this server issued (expected the id of an event, as received)");
            return false;
        }

        if (log.Read(cursor, []).Gap == GapReason.Ahead)
        {
            problem = Problems.Invalid(field, $"points past the newest event of this stream (seq {log.Head.Seq})");
            return false;
        }

        return true;
    }
}
