using System.Runtime.CompilerServices;
using System.Text.Json;
using StackExchange.Redis;

namespace RealtimeDemo.Log.Redis;

/// <summary>
/// The event log shared by several hosts through a Redis stream. Publishing appends to the stream; each host runs
/// one follower (this service) that copies the stream into a local <see cref="EventRing"/>, encoding each event
/// once, and wakes that ring's readers. Readers never touch Redis: <see cref="Read"/> serves the local window,
/// synchronously, exactly as the in-memory log does. The one difference a reader meets: a cursor another host issued a
/// moment ago may stand ahead of this host's window (<see cref="Transports.CursorReader"/> waits for it).
/// </summary>
/// <remarks>
/// The follower wakes on the stream's <c>appended</c> channel, on this host's own appends, when the connection comes
/// back, and at the latest every <see cref="PollInterval"/> (a notification lost during a reconnect costs at most
/// that). A cursor older than the local window is a gap, as in the in-memory log: the window is the retention.
/// </remarks>
public sealed partial class RedisEventLog : BackgroundService, IEventLog
{
    /// <summary>How many entries one catch-up read asks Redis for.</summary>
    private const int ReadBatch = 1_000;

    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    /// <summary>How long a publish waits for its own event to reach this host's window before encoding it itself.</summary>
    private static readonly TimeSpan OwnEventWait = TimeSpan.FromSeconds(5);

    private readonly IConnectionMultiplexer _redis;
    private readonly RedisEventStream _stream;
    private readonly int _retention;
    private readonly TimeProvider _time;
    private readonly ILogger<RedisEventLog> _logger;
    private EventRing _ring;
    private TaskCompletionSource _wake = NewSignal();
    private volatile bool _following;
    private StrongBox<EventCursor>? _announced;

    /// <param name="redis">The connection the stream is read through; the log does not own it.</param>
    /// <param name="stream">The shared stream; its retention is also the size of this host's window.</param>
    public RedisEventLog(IConnectionMultiplexer redis, RedisEventStream stream, TimeProvider time, ILogger<RedisEventLog> logger)
    {
        _redis = redis;
        _stream = stream;
        _retention = stream.Retention;
        _time = time;
        _logger = logger;

        // Until the first read of the stream tells the real epoch, a placeholder one that no client holds.
        _ring = new EventRing(EventCursor.NewEpoch(), _retention);
    }

    public string Epoch => Volatile.Read(ref _ring).Epoch;

    public EventCursor Head => Volatile.Read(ref _ring).Head;

    // One signal across the rings this log replaces, so a reader's place on it survives an epoch change.
    public AppendSignal Appended { get; } = new();

    /// <summary>Whether the last read of the stream succeeded: this host is in step with the shared log.</summary>
    public bool IsFollowing => _following;

    public LogRead Read(EventCursor after, Span<StoredEvent> destination)
    {
        var read = Volatile.Read(ref _ring).Read(after, destination);

        // A client may hold a cursor another host handed out before this host's window caught up (it follows a moment
        // behind): up to the newest cursor announced on the stream, that is "nothing yet", not a cursor no client could hold.
        return read.Gap == GapReason.Ahead && Volatile.Read(ref _announced) is { } announced && announced.Value.Epoch == after.Epoch && after.Seq <= announced.Value.Seq
            ? read with { Gap = GapReason.None }
            : read;
    }

    /// <summary>
    /// Appends to the shared stream and returns the event once this host's window holds it, so a client that
    /// publishes here and then reads here finds its own event.
    /// </summary>
    /// <exception cref="EventLogUnavailableException">Redis cannot be reached or did not answer in time.</exception>
    public async ValueTask<StoredEvent> AppendAsync(string type, JsonElement data, CancellationToken cancellationToken = default, string? by = null)
    {
        if (data.ValueKind != JsonValueKind.Object)
        {
            throw new ArgumentException("Event data must be a JSON object.", nameof(data));
        }

        var time = _time.GetUtcNow();
        (string Epoch, long Seq) appended;
        try
        {
            appended = await _stream.AppendAsync(Head, type, JsonSerializer.SerializeToUtf8Bytes(data), time.ToUnixTimeMilliseconds(), by);
        }
        catch (RedisException exception)
        {
            // Unreachable, or refusing writes (out of memory, a read-only replica after a failover): not published.
            throw new EventLogUnavailableException("The event log's Redis cannot be reached or refused the write; the event was not published.", exception);
        }
        catch (RedisTimeoutException exception)
        {
            // The script may have run with only its answer lost: say so rather than claim the event is gone.
            throw new EventLogUnavailableException("The event log's Redis did not answer in time; the event may not have been published.", exception);
        }

        var cursor = new EventCursor(appended.Epoch, appended.Seq);
        Announce(cursor);
        return await WaitForAsync(cursor, cancellationToken) ?? StoredEvent.Create(cursor, type, data, time, by);
    }

    /// <summary>Learns the stream's epoch and fills the window before the host serves, so first clients get real cursors.</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await CatchUpAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is RedisException or RedisTimeoutException)
        {
            LogNotFollowing(_logger, exception); // the follower keeps trying; the host starts unready meanwhile
        }

        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _redis.ConnectionRestored += OnConnectionRestored;
        try
        {
            await FollowAsync(stoppingToken);
        }
        finally
        {
            _redis.ConnectionRestored -= OnConnectionRestored;
        }
    }

    private async Task FollowAsync(CancellationToken stoppingToken)
    {
        var subscribed = false;
        var backoff = TimeSpan.Zero;
        while (true)
        {
            // A fresh signal before each catch-up: a wake during it brings another at once, and one before it is covered by it.
            var wake = NewSignal();
            Volatile.Write(ref _wake, wake);
            try
            {
                if (!subscribed)
                {
                    // Once registered, the connection renews the subscription itself after every reconnect.
                    await _redis.GetSubscriber().SubscribeAsync(_stream.Appended, (_, message) =>
                    {
                        if (EventCursor.TryParse(message, out var cursor))
                        {
                            Announce(cursor);
                        }
                    });
                    subscribed = true;
                }

                await CatchUpAsync(stoppingToken);
                if (!_following)
                {
                    LogFollowing(_logger, Epoch, Head.Seq);
                    _following = true;
                }

                backoff = TimeSpan.Zero;
            }
            catch (Exception exception) when (exception is RedisException or RedisTimeoutException)
            {
                if (_following || backoff == TimeSpan.Zero)
                {
                    LogNotFollowing(_logger, exception);
                }

                _following = false;
                backoff = backoff == TimeSpan.Zero ? TimeSpan.FromMilliseconds(100) : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                await Task.Delay(backoff, _time, stoppingToken);
                continue;
            }

            await wake.Task.WaitAsync(PollInterval, _time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            stoppingToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>Copies everything the stream holds after this host's head into the local window.</summary>
    /// <remarks>
    /// One caller at a time, so events are added to the ring once and in order: start-up calls it before the follower
    /// loop starts, and from then on only that loop does.
    /// </remarks>
    private async Task CatchUpAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            // A long catch-up (a large retention) is a round trip per batch: stopping is honoured between them.
            cancellationToken.ThrowIfCancellationRequested();
            var ring = _ring;
            var read = await _stream.ReadAsync(ring.Head, ReadBatch);
            var newEpoch = read.Epoch != ring.Epoch;
            if (newEpoch)
            {
                // The stream is new (first contact) or was lost and restarted: readers of the old epoch wake to a gap.
                if (ring.Head.Seq > 0)
                {
                    LogEpochChanged(_logger, ring.Epoch, read.Epoch);
                }

                ring = new EventRing(read.Epoch, _retention, read.Start);
            }

            var changed = newEpoch;
            foreach (var entry in read.Entries)
            {
                if (TryDecode(read.Epoch, entry) is { } stored)
                {
                    ring.Add(stored);
                    changed = true;
                }
                else
                {
                    // Someone else's writing in our stream: skipped (readers see a gap) rather than stopping every host.
                    LogUndecodable(_logger, entry.Seq);
                }
            }

            // A new epoch's window is shown to readers only once it holds this batch: one seen empty would move them to
            // its start, and a batch longer than the window would then look like a second gap.
            if (newEpoch)
            {
                Volatile.Write(ref _ring, ring);
            }

            // The newest cursor the stream has handed out, so a client bringing it here is not told it is ahead, even if
            // its announcement was lost (during a reconnect). After the window: a new epoch's cursor is kept only once
            // this host follows that epoch.
            Note(new EventCursor(read.Epoch, read.Head));

            // Once per batch read, not per event: each firing wakes every reader.
            if (changed)
            {
                Appended.Fire();
            }

            if (read.Entries.Count < ReadBatch)
            {
                return;
            }
        }
    }

    // Every host decodes the same stored bytes, so all of them serve byte-identical events.
    private static StoredEvent? TryDecode(string epoch, StreamEntry entry)
    {
        if (entry is not { Type: { } type, Data: { } bytes, By: var by })
        {
            return null;
        }

        try
        {
            using var data = JsonDocument.Parse(bytes);
            return data.RootElement.ValueKind == JsonValueKind.Object
                ? StoredEvent.Create(new EventCursor(epoch, entry.Seq), type, data.RootElement, DateTimeOffset.FromUnixTimeMilliseconds(entry.TimeMilliseconds), by)
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The event at <paramref name="cursor"/> once the window holds it; null if it left the window first, or the follower is stuck.</summary>
    private async Task<StoredEvent?> WaitForAsync(EventCursor cursor, CancellationToken cancellationToken)
    {
        using var ownEventWait = new CancellationTokenSource(OwnEventWait, _time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, ownEventWait.Token);
        var found = new StoredEvent[1];
        while (true)
        {
            var appended = Appended.Next;
            var ring = Volatile.Read(ref _ring);
            if (ring.Epoch == cursor.Epoch && ring.Head.Seq >= cursor.Seq)
            {
                var read = ring.Read(new EventCursor(cursor.Epoch, cursor.Seq - 1), found);
                return read is { Count: 1, Gap: GapReason.None } ? found[0] : null;
            }

            try
            {
                await appended.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return null;
            }
        }
    }

    /// <summary>Notes a cursor the stream has handed out, and wakes the follower to fetch it.</summary>
    private void Announce(EventCursor cursor)
    {
        Note(cursor);
        Volatile.Read(ref _wake).TrySetResult();
    }

    /// <summary>
    /// Keeps the newest cursor handed out: a later seq of the same epoch, or the first of the epoch this host now
    /// follows. A late announcement of an older epoch never replaces it, so a cursor once accepted stays accepted.
    /// </summary>
    private void Note(EventCursor cursor)
    {
        var box = new StrongBox<EventCursor>(cursor);
        var current = Volatile.Read(ref _announced);
        while ((current is null || (current.Value.Epoch == cursor.Epoch ? current.Value.Seq < cursor.Seq : cursor.Epoch == Epoch))
            && Interlocked.CompareExchange(ref _announced, box, current) is var seen && seen != current)
        {
            current = seen;
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e) => Volatile.Read(ref _wake).TrySetResult();

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [LoggerMessage(Level = LogLevel.Information, Message = "Following the shared event log in Redis: epoch {Epoch}, head seq {Seq}")]
    private static partial void LogFollowing(ILogger logger, string epoch, long seq);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot read the shared event log in Redis; retrying with backoff")]
    private static partial void LogNotFollowing(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipped stream entry {Seq} of the shared event log: it is not an event this log wrote")]
    private static partial void LogUndecodable(ILogger logger, long seq);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The shared event log in Redis has a new epoch {NewEpoch} (was {OldEpoch}): its stream was lost or went back")]
    private static partial void LogEpochChanged(ILogger logger, string oldEpoch, string newEpoch);
}
