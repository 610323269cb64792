using System.Text.Json;

namespace RealtimeDemo.Log;

/// <summary>
/// The one append-only event stream every transport reads. Readers never get a queue of their own:
/// they hold a cursor, read what lies after it, and wait on <see cref="Appended"/>, one signal shared
/// by all of them, so publishing costs the same for one reader or ten thousand.
/// </summary>
public interface IEventLog
{
    /// <summary>The epoch of the stream this log holds now.</summary>
    string Epoch { get; }

    /// <summary>The cursor of the newest event (seq 0 while the stream is empty): where "from now" starts.</summary>
    EventCursor Head { get; }

    /// <summary>
    /// Fires at every append. Take its <see cref="AppendSignal.Version"/>, <em>then</em> check <see cref="Head"/> against
    /// your cursor (or read), and wait only when nothing lies after the cursor: no append can then fall between the
    /// check and the wait. The same signal for the log's whole life.
    /// </summary>
    AppendSignal Appended { get; }

    /// <summary>Appends an event with the next <c>seq</c> and returns it, encoded and stored.</summary>
    /// <param name="type">A valid event type (see <see cref="PublishRequest"/>).</param>
    /// <param name="data">A JSON object; it is copied, so the caller may dispose its document afterwards.</param>
    /// <param name="by">The signed-in publisher's name, stored and delivered as the event's <c>by</c>; null for none.</param>
    ValueTask<StoredEvent> AppendAsync(string type, JsonElement data, CancellationToken cancellationToken = default, string? by = null);

    /// <summary>
    /// Copies the events after <paramref name="after"/> into <paramref name="destination"/>, oldest first,
    /// as many as fit. Never waits for an append (it may retry while one is being stored).
    /// </summary>
    LogRead Read(EventCursor after, Span<StoredEvent> destination);
}

/// <summary>What a <see cref="IEventLog.Read"/> found.</summary>
/// <param name="Count">How many events were copied.</param>
/// <param name="Next">The cursor to read after next time.</param>
/// <param name="Gap">Whether events between the cursor and the first event returned are lost to the reader, and why.</param>
public readonly record struct LogRead(int Count, EventCursor Next, GapReason Gap);

/// <summary>Why a reader cannot have everything after its cursor.</summary>
public enum GapReason
{
    /// <summary>The read continues exactly where the cursor stood.</summary>
    None,

    /// <summary>The cursor is older than the oldest retained event; the read starts at the oldest retained.</summary>
    Expired,

    /// <summary>The cursor belongs to another epoch of the stream; the read starts at the oldest retained.</summary>
    EpochChanged,

    /// <summary>The cursor points past the newest event of this epoch the log knows of: no client could have received it.</summary>
    Ahead,
}
