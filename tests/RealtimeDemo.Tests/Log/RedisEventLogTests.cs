using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using RealtimeDemo.Tests.Infrastructure;
using StackExchange.Redis;

namespace RealtimeDemo.Tests.Log;

/// <summary>
/// The Redis log against a real Redis: the whole <see cref="EventLogContract"/>, then what sharing adds — one seq
/// and one epoch for every host on the stream, an epoch that outlives a host but not the stream, trimming, faults.
/// Each "host" here is a <see cref="RedisEventLog"/> of its own on the same key prefix. (The ticker lease the stream
/// also keeps: <c>Ticker/RedisTickerLeaseTests</c>.)
/// </summary>
public sealed class RedisEventLogTests(RedisServer redis) : EventLogContract, IClassFixture<RedisServer>, IAsyncLifetime
{
    private readonly List<RedisEventLog> _logs = [];
    private ConnectionMultiplexer? _connection;

    protected override async Task<IEventLog> CreateLogAsync(int retention, TimeProvider time) =>
        await StartLogAsync(RedisServer.NewKeyPrefix(), retention, time);

    [Fact]
    public async Task TwoHostsOnOneStreamShareOneContiguousSeqAndTheirCursorsResumeOnEachOther()
    {
        var cancellationToken = TestClients.Deadline(Deadlines.Slow);
        var prefix = RedisServer.NewKeyPrefix();
        var a = await StartLogAsync(prefix);
        var b = await StartLogAsync(prefix);
        Assert.Equal(a.Epoch, b.Epoch);

        var published = await Task.WhenAll(AppendManyAsync(a, 200, cancellationToken), AppendManyAsync(b, 200, cancellationToken));

        Assert.Equal(Enumerable.Range(1, 400).Select(i => (long)i), published.SelectMany(seqs => seqs).Order());
        await WaitForHeadAsync(a, 400, cancellationToken);
        await WaitForHeadAsync(b, 400, cancellationToken);

        // A cursor a reader of host A holds reads on host B exactly the rest, in the same bytes.
        var fromA = new StoredEvent[400];
        var fromB = new StoredEvent[400];
        Assert.Equal(new LogRead(400, a.Head, GapReason.None), a.Read(new EventCursor(a.Epoch, 0), fromA));
        var cursor = fromA[149].Cursor;
        var rest = b.Read(cursor, fromB);
        Assert.Equal(new LogRead(250, b.Head, GapReason.None), rest);
        Assert.Equal(fromA[150..].Select(e => e.Json.ToArray()), fromB[..250].Select(e => e.Json.ToArray()));
    }

    [Fact]
    public async Task AHostThatStartsLaterAdoptsTheEpochAndTheRetainedEvents()
    {
        var cancellationToken = TestClients.Deadline();
        var prefix = RedisServer.NewKeyPrefix();
        var first = await StartLogAsync(prefix);
        await AppendManyAsync(first, 5, cancellationToken);

        // As after a restart of the host: a new process, the same stream.
        var restarted = await StartLogAsync(prefix);

        Assert.Equal(first.Epoch, restarted.Epoch);
        Assert.Equal(first.Head, restarted.Head);
        var read = restarted.Read(new EventCursor(first.Epoch, 2), new StoredEvent[10]);
        Assert.Equal(new LogRead(3, first.Head, GapReason.None), read);
    }

    [Fact]
    public async Task LosingTheStreamStartsANewEpochAndReadersOfTheOldOneGetAGap()
    {
        var cancellationToken = TestClients.Deadline();
        var (log, prefix) = await StartLogWithEventsAsync(3, cancellationToken);
        var oldEpoch = log.Epoch;
        var waiting = log.Appended.Next;

        // What FLUSHALL or a new, empty Redis does to this log's keys.
        var keys = new RedisKey[] { Key(prefix, "meta"), Key(prefix, "stream") };
        await Connection.GetDatabase().KeyDeleteAsync(keys);
        var stored = await log.AppendAsync("test", Data("{}"), cancellationToken);

        Assert.NotEqual(oldEpoch, log.Epoch);
        Assert.Equal(new EventCursor(log.Epoch, 1), stored.Cursor);
        await waiting.WaitAsync(cancellationToken); // readers waiting on the old stream woke up
        var destination = new StoredEvent[10];
        var read = log.Read(new EventCursor(oldEpoch, 3), destination);
        Assert.Equal(new LogRead(1, new EventCursor(log.Epoch, 1), GapReason.EpochChanged), read);
    }

    [Fact]
    public async Task AReaderCrossingIntoANewEpochIsNeverShownItEmpty()
    {
        // A new epoch's window must reach readers holding what was read of it. Shown empty for a moment, it would move a
        // reader to (epoch, 0); when this host keeps fewer events than the new stream already has, the first event it
        // then holds lies beyond that cursor, and the reader would meet a second, spurious gap. The reader spins on
        // another thread so that it reads while the follower changes epochs; twenty losses give it twenty chances.
        var cancellationToken = TestClients.Deadline(Deadlines.Load);
        var prefix = RedisServer.NewKeyPrefix();
        var log = await StartLogAsync(prefix, retention: 2);
        var otherHost = new RedisEventStream(Connection, prefix, retention: 2);
        var keys = new RedisKey[] { Key(prefix, "meta"), Key(prefix, "stream"), Key(prefix, "appended") };

        // This host's follower is running once it has caught up on another host's append.
        await otherHost.AppendAsync(log.Head, "test", "{}"u8.ToArray(), 0);
        await WaitForHeadAsync(log, 1, cancellationToken);
        for (var loss = 0; loss < 20; loss++)
        {
            var before = log.Head;
            using var stopReading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var reading = Task.Factory.StartNew(() => ReadUntilNewEpochSeq(log, before, 5, stopReading.Token), stopReading.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            List<LogRead> gaps;
            try
            {
                // The stream is lost and, in the same step, another host's first event starts a new one (no host can read
                // the stream lost and still empty, which would rightly show an empty epoch); four more follow at once.
                await Connection.GetDatabase().ScriptEvaluateAsync(
                    """
                    redis.call('DEL', KEYS[1], KEYS[2])
                    redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'seq', 1, 'start', 0)
                    redis.call('XADD', KEYS[2], '1-0', 'type', 'test', 'data', '{}', 'time', 0)
                    redis.call('PUBLISH', KEYS[3], ARGV[1] .. '-1')
                    """,
                    keys,
                    [EventCursor.NewEpoch()]);
                await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => otherHost.AppendAsync(new EventCursor(EventCursor.NewEpoch(), 0), "test", "{}"u8.ToArray(), 0)));
                gaps = await reading;
            }
            finally
            {
                // A step that failed must not leave the reader spinning on a core after the test.
                await stopReading.CancelAsync();
            }

            // The change of epoch comes with events of the new one. (If this host read the five in more than one
            // batch, its two-event window may also have made the reader skip some: an expired gap, which is fair.)
            Assert.Equal(GapReason.EpochChanged, gaps[0].Gap);
            Assert.True(gaps[0].Count > 0, $"Loss {loss}: the new epoch was shown empty, and the reader moved to {gaps[0].Next}.");
            Assert.All(gaps.Skip(1), gap => Assert.Equal(GapReason.Expired, gap.Gap));
        }
    }

    [Fact]
    public async Task ACounterThatWentBackStartsANewEpochInsteadOfReusingSeqs()
    {
        var cancellationToken = TestClients.Deadline();
        var (log, prefix, oldEpoch) = await StartALogThatLosesItsLastWritesAsync(cancellationToken);

        var stored = await log.AppendAsync("test", Data("{\"after\": \"the loss\"}"), cancellationToken);

        // Seq 3 of the old epoch named another event: the new one must not be mistaken for it.
        Assert.NotEqual(oldEpoch, stored.Cursor.Epoch);
        Assert.Equal("test", JsonDocument.Parse(stored.Json).RootElement.GetProperty("type").GetString());
        Assert.Equal(stored.Cursor, log.Head);

        // Seqs 1 and 2 are the old epoch's events, already delivered under it: a reader crossing into the new epoch gets
        // its gap and then only the new event, on this host and on one that starts now, not those two a second time.
        var destination = new StoredEvent[10];
        Assert.Equal(new LogRead(1, stored.Cursor, GapReason.EpochChanged), log.Read(new EventCursor(oldEpoch, 5), destination));
        Assert.Equal(stored.Json.ToArray(), destination[0].Json.ToArray());
        var later = await StartLogAsync(prefix);
        Assert.Equal(new LogRead(1, stored.Cursor, GapReason.EpochChanged), later.Read(new EventCursor(oldEpoch, 5), destination));
        Assert.Equal(stored.Json.ToArray(), destination[0].Json.ToArray());
    }

    [Fact]
    public async Task ANewEpochFoundOnReadingAfterLostWritesContinuesTheCounterWithNoSecondGap()
    {
        var cancellationToken = TestClients.Deadline();
        var (log, prefix, oldEpoch) = await StartALogThatLosesItsLastWritesAsync(cancellationToken);

        // Nobody appends after the loss: this host finds it on its next read, woken here as an announcement would wake
        // it, or by its own poll, which may come first.
        await Connection.GetSubscriber().PublishAsync(RedisChannel.Literal(Key(prefix, "appended")), $"{oldEpoch}-5");
        await WaitUntilAsync(log, () => log.Epoch != oldEpoch, cancellationToken);

        // The new epoch is empty and stands where the counter does: a reader crossing into it moves there, and the next
        // event follows on. Standing at seq 0 it would meet a second, "expired" gap at that event.
        Assert.Equal(new EventCursor(log.Epoch, 2), log.Head);
        var destination = new StoredEvent[10];
        var crossed = log.Read(new EventCursor(oldEpoch, 5), destination);
        Assert.Equal(new LogRead(0, log.Head, GapReason.EpochChanged), crossed);
        var stored = await log.AppendAsync("test", Data("{}"), cancellationToken);
        Assert.Equal(new EventCursor(log.Epoch, 3), stored.Cursor);
        Assert.Equal(new LogRead(1, stored.Cursor, GapReason.None), log.Read(crossed.Next, destination));
    }

    [Fact]
    public async Task AnEntryThatIsNotAnEventIsSkippedAndTheLogFollowsOn()
    {
        var cancellationToken = TestClients.Deadline();
        var prefix = RedisServer.NewKeyPrefix();
        var log = await StartLogAsync(prefix);
        await AppendManyAsync(log, 1, cancellationToken);

        // Something else writes into the stream, under the next seq.
        var database = Connection.GetDatabase();
        await database.HashIncrementAsync(Key(prefix, "meta"), "seq");
        await database.StreamAddAsync(Key(prefix, "stream"), "foreign", "not an event", "2-0");
        var stored = await log.AppendAsync("test", Data("{}"), cancellationToken);

        Assert.Equal(3, stored.Seq);
        var read = log.Read(new EventCursor(log.Epoch, 1), new StoredEvent[10]);
        Assert.Equal(1, read.Count);
        Assert.Equal(GapReason.Expired, read.Gap);
    }

    [Fact]
    public async Task TheNewestCursorOfANewEpochIsKeptWhenTheHostMovesToIt()
    {
        // The new stream's newest entry is one no host can decode: the newest cursor handed out stands past this host's
        // window. A client holding it waits for the next event here rather than being told its cursor is ahead, also
        // when this host learns of it on the read that moves it to the new epoch.
        var cancellationToken = TestClients.Deadline();

        // A host has woken its readers for what it found on start before its start returns: the next firing is the
        // move's. (An append's own firing may come after the append returns, so none is made here.)
        var prefix = RedisServer.NewKeyPrefix();
        var log = await StartLogAsync(prefix);
        var oldEpoch = log.Epoch;
        var newEpoch = EventCursor.NewEpoch();
        var moved = log.Appended.Next;
        await Connection.GetDatabase().ScriptEvaluateAsync(
            """
            redis.call('DEL', KEYS[1], KEYS[2])
            redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'seq', 2, 'start', 0)
            redis.call('XADD', KEYS[2], '1-0', 'type', 'test', 'data', '{}', 'time', 0)
            redis.call('XADD', KEYS[2], '2-0', 'foreign', 'not an event')
            """,
            [Key(prefix, "meta"), Key(prefix, "stream")],
            [newEpoch]);
        await Connection.GetSubscriber().PublishAsync(RedisChannel.Literal(Key(prefix, "appended")), $"{oldEpoch}-1");

        // The host wakes its readers once it has moved, and has noted the newest cursor by then.
        await moved.WaitAsync(cancellationToken);
        Assert.Equal(new EventCursor(newEpoch, 1), log.Head);
        Assert.Equal(new LogRead(0, new EventCursor(newEpoch, 2), GapReason.None), log.Read(new EventCursor(newEpoch, 2), new StoredEvent[10]));
    }

    [Fact]
    public async Task TheStreamIsTrimmedNearTheRetention()
    {
        var cancellationToken = TestClients.Deadline(Deadlines.Slow);
        var prefix = RedisServer.NewKeyPrefix();
        var log = await StartLogAsync(prefix, retention: 16);
        await AppendManyAsync(log, 500, cancellationToken);

        // Trimming is approximate (whole stream nodes, 100 entries by default), never below the retention.
        var length = await Connection.GetDatabase().StreamLengthAsync(Key(prefix, "stream"));
        Assert.InRange(length, 16, 200);
        var read = log.Read(new EventCursor(log.Epoch, 0), new StoredEvent[100]);
        Assert.Equal(new LogRead(16, log.Head, GapReason.Expired), read);
    }

    [Fact]
    public async Task AppendWithoutRedisFailsPromptlyAsUnavailable()
    {
        var cancellationToken = TestClients.Deadline();
        var options = RedisConnection.Options($"127.0.0.1:{LoopbackPort.Free()},{RedisServer.LongTimeouts}");
        Assert.Equal(30_000, options.AsyncTimeout);
        using var nowhere = await ConnectionMultiplexer.ConnectAsync(options);
        var log = new RedisEventLog(nowhere, new RedisEventStream(nowhere, RedisServer.NewKeyPrefix(), 100), TimeProvider.System, NullLogger<RedisEventLog>.Instance);

        // Failed fast, not timed out: a command sent and left unanswered for the 30 s would say Redis "did not answer
        // in time"; one queued until a connection came would outlast the 15 s deadline (and then fail as unreachable).
        var refused = await Assert.ThrowsAsync<EventLogUnavailableException>(
            async () => await log.AppendAsync("test", Data("{}"), cancellationToken).AsTask().WaitAsync(cancellationToken));
        Assert.Contains("cannot be reached", refused.Message, StringComparison.Ordinal);
        Assert.False(log.IsFollowing);
    }

    public ValueTask InitializeAsync()
    {
        redis.RequireRedis();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var log in _logs)
        {
            await log.StopAsync(CancellationToken.None);
            log.Dispose();
        }

        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }
    }

    /// <summary>
    /// A host on a stream of five events, then what a Redis restarted from a file a second old does to it: seqs 3 to 5,
    /// which the host already holds, are gone. Done in one step, so no host reads a half-made loss.
    /// </summary>
    private async Task<(RedisEventLog Log, string Prefix, string OldEpoch)> StartALogThatLosesItsLastWritesAsync(CancellationToken cancellationToken)
    {
        var (log, prefix) = await StartLogWithEventsAsync(5, cancellationToken);
        var oldEpoch = log.Epoch;
        await Connection.GetDatabase().ScriptEvaluateAsync(
            """
            redis.call('HSET', KEYS[1], 'seq', 2)
            redis.call('XDEL', KEYS[2], '3-0', '4-0', '5-0')
            redis.call('XSETID', KEYS[2], '2-0')
            """,
            [Key(prefix, "meta"), Key(prefix, "stream")]);
        return (log, prefix, oldEpoch);
    }

    // A stream's read loop without the waits: from the cursor, following each read, until it stands at seq of a new
    // epoch. Returns every read that reported a gap.
    private static List<LogRead> ReadUntilNewEpochSeq(IEventLog log, EventCursor from, long seq, CancellationToken cancellationToken)
    {
        var gaps = new List<LogRead>();
        var destination = new StoredEvent[10];
        var cursor = from;
        while (cursor.Epoch == from.Epoch || cursor.Seq < seq)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var read = log.Read(cursor, destination);
            if (read.Gap != GapReason.None)
            {
                gaps.Add(read);
            }

            cursor = read.Next;
        }

        return gaps;
    }

    private ConnectionMultiplexer Connection => _connection ??= redis.Connect();

    /// <summary>One of the log's keys in Redis, as <see cref="RedisEventStream"/> names them.</summary>
    private static string Key(string prefix, string name) => $"{{{prefix}}}:{name}";

    /// <summary>A host on a stream of its own, holding <paramref name="count"/> events.</summary>
    private async Task<(RedisEventLog Log, string Prefix)> StartLogWithEventsAsync(int count, CancellationToken cancellationToken)
    {
        var prefix = RedisServer.NewKeyPrefix();
        var log = await StartLogAsync(prefix);
        await AppendManyAsync(log, count, cancellationToken);
        return (log, prefix);
    }

    private async Task<RedisEventLog> StartLogAsync(string prefix, int retention = 1_000, TimeProvider? time = null)
    {
        var log = new RedisEventLog(Connection, new RedisEventStream(Connection, prefix, retention), time ?? TimeProvider.System, NullLogger<RedisEventLog>.Instance);
        _logs.Add(log);
        await log.StartAsync(TestClients.Deadline());
        return log;
    }
}
