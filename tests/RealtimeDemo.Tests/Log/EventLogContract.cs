using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Log;

/// <summary>
/// What every event log must do, whichever store holds it: placement, encoding, resume semantics and concurrency.
/// Each implementation runs this whole suite through a subclass that says how to make a fresh, empty log.
/// </summary>
public abstract class EventLogContract
{
    // Sub-millisecond ticks, so the test shows the time is truncated, not rounded.
    private static readonly DateTimeOffset Start = new DateTimeOffset(2026, 11, 23, 18, 0, 0, 123, TimeSpan.Zero).AddTicks(9_999);

    private readonly FakeTimeProvider _time = new(Start);

    /// <summary>A new, empty log (its own stream) keeping <paramref name="retention"/> events, stamping times from <paramref name="time"/>.</summary>
    protected abstract Task<IEventLog> CreateLogAsync(int retention, TimeProvider time);

    [Fact]
    public async Task AppendAssignsSeqOneTwoThreeAndIdsFromEpochAndSeq()
    {
        var log = await NewLogAsync();

        var stored = new List<StoredEvent>();
        for (var i = 0; i < 3; i++)
        {
            stored.Add(await log.AppendAsync("test", Data($$"""{"n":{{i}}}"""), TestClients.Deadline()));
        }

        Assert.Equal(new long[] { 1, 2, 3 }, stored.Select(e => e.Seq));
        Assert.Equal(new[] { $"{log.Epoch}-1", $"{log.Epoch}-2", $"{log.Epoch}-3" }, stored.Select(e => e.Cursor.ToString()));
        Assert.All(stored, e => Assert.Equal("test", e.Type));
    }

    [Fact]
    public async Task JsonIsTheEventWithTimeInUtcMilliseconds()
    {
        var log = await NewLogAsync();
        await log.AppendAsync("first", Data("{}"), TestClients.Deadline());
        _time.Advance(TimeSpan.FromMilliseconds(1_001));

        var stored = await log.AppendAsync("tick", Data("""{ "text": "hi", "nested": { "list": [1, 2.5, true, null] } }"""), TestClients.Deadline());

        using var json = JsonDocument.Parse(stored.Json);
        var root = json.RootElement;
        Assert.Equal(new[] { "id", "seq", "type", "data", "time" }, root.EnumerateObject().Select(p => p.Name));
        Assert.Equal($"{log.Epoch}-2", root.GetProperty("id").GetString());
        Assert.Equal(2, root.GetProperty("seq").GetInt64());
        Assert.Equal("tick", root.GetProperty("type").GetString());
        Assert.Equal("""{"text":"hi","nested":{"list":[1,2.5,true,null]}}""", root.GetProperty("data").GetRawText());
        Assert.Equal("2026-11-23T18:00:01.124Z", root.GetProperty("time").GetString());
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 18, 0, 1, 124, TimeSpan.Zero), stored.Time);
    }

    [Fact]
    public async Task JsonIsCompactUtf8WithoutLineBreaks()
    {
        var log = await NewLogAsync();

        var stored = await log.AppendAsync("test", Data("{\n  \"text\": \"line one\\nline two\\r\\n\"\n}"), TestClients.Deadline());

        // One SSE data line must be able to carry the whole event.
        Assert.DoesNotContain((byte)'\n', stored.Json.ToArray());
        Assert.DoesNotContain((byte)'\r', stored.Json.ToArray());
        using var json = JsonDocument.Parse(stored.Json);
        Assert.Equal("line one\nline two\r\n", json.RootElement.GetProperty("data").GetProperty("text").GetString());
    }

    [Fact]
    public async Task SseFrameIsTheIdLineTheDataLineAndABlankLine()
    {
        var log = await NewLogAsync();

        var stored = await log.AppendAsync("test", Data("""{"text":"a\nb","n":1}"""), TestClients.Deadline());

        var json = Encoding.UTF8.GetString(stored.Json.Span);
        Assert.Equal($"id: {log.Epoch}-1\ndata: {json}\n\n", Encoding.UTF8.GetString(stored.SseFrame.Span));

        var parser = SseParser.Create(new MemoryStream(stored.SseFrame.ToArray()));
        var item = Assert.Single(parser.Enumerate());
        Assert.Equal(SseParser.EventTypeDefault, item.EventType);
        Assert.Equal(json, item.Data);
        Assert.Equal($"{log.Epoch}-1", parser.LastEventId);
    }

    [Fact]
    public async Task AppendCopiesTheDataSoTheCallerMayDisposeItsDocument()
    {
        var log = await NewLogAsync();
        StoredEvent stored;
        using (var document = JsonDocument.Parse("""{"kept":true}"""))
        {
            stored = await log.AppendAsync("test", document.RootElement, TestClients.Deadline());
        }

        using var json = JsonDocument.Parse(stored.Json);
        Assert.True(json.RootElement.GetProperty("data").GetProperty("kept").GetBoolean());
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("\"text\"")]
    [InlineData("null")]
    [InlineData("1")]
    public async Task AppendRefusesDataThatIsNotAnObjectAndConsumesNoSeq(string data)
    {
        var log = await NewLogAsync();

        await Assert.ThrowsAsync<ArgumentException>(async () => await log.AppendAsync("test", Data(data), TestClients.Deadline()));

        Assert.Equal(new EventCursor(log.Epoch, 0), log.Head);
        Assert.Equal(1, (await log.AppendAsync("test", Data("{}"), TestClients.Deadline())).Seq);
    }

    [Fact]
    public async Task ReadFromACursorMidStreamReturnsExactlyTheRestInOrder()
    {
        var log = await NewLogAsync();
        await AppendManyAsync(log, 10, TestClients.Deadline());

        var destination = new StoredEvent[100];
        var read = log.Read(new EventCursor(log.Epoch, 4), destination);

        Assert.Equal(new LogRead(6, new EventCursor(log.Epoch, 10), GapReason.None), read);
        Assert.Equal(new long[] { 5, 6, 7, 8, 9, 10 }, destination[..read.Count].Select(e => e.Seq));
    }

    [Fact]
    public async Task ReadIntoASmallDestinationReturnsAPrefixAndNextContinuesFromIt()
    {
        var log = await NewLogAsync();
        await AppendManyAsync(log, 10, TestClients.Deadline());

        var destination = new StoredEvent[3];
        var seen = new List<long>();
        var cursor = new EventCursor(log.Epoch, 0);
        var counts = new List<int>();
        while (true)
        {
            var read = log.Read(cursor, destination);
            if (read.Count == 0)
            {
                Assert.Equal(cursor, read.Next);
                break;
            }

            Assert.Equal(GapReason.None, read.Gap);
            Assert.Equal(destination[read.Count - 1].Cursor, read.Next);
            counts.Add(read.Count);
            seen.AddRange(destination[..read.Count].Select(e => e.Seq));
            cursor = read.Next;
        }

        Assert.Equal(new[] { 3, 3, 3, 1 }, counts);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), seen);
    }

    // Retention 8, 24 appended: the ring keeps 17..24, so a cursor up to 15 has lost at least one event.
    [Theory]
    [InlineData(0L, 17L, GapReason.Expired)]
    [InlineData(1L, 17L, GapReason.Expired)]
    [InlineData(15L, 17L, GapReason.Expired)]
    [InlineData(16L, 17L, GapReason.None)]
    [InlineData(20L, 21L, GapReason.None)]
    [InlineData(23L, 24L, GapReason.None)]
    public async Task ReadAfterWrapAroundStartsAtTheRightSeqAndReportsAGapOnlyForLostEvents(long after, long first, GapReason gap)
    {
        const int Retention = 8;
        var log = await NewLogAsync(Retention);
        await AppendManyAsync(log, 3 * Retention, TestClients.Deadline());

        var destination = new StoredEvent[100];
        var read = log.Read(new EventCursor(log.Epoch, after), destination);

        Assert.Equal(new LogRead((int)(24 - first + 1), new EventCursor(log.Epoch, 24), gap), read);
        Assert.Equal(Enumerable.Range((int)first, (int)(24 - first + 1)).Select(i => (long)i), destination[..read.Count].Select(e => e.Seq));
    }

    [Theory]
    [InlineData(5, 1L)]
    [InlineData(24, 17L)]
    public async Task ReadFromAForeignEpochReportsEpochChangedAndStartsAtTheOldestRetained(int appended, long oldest)
    {
        var log = await NewLogAsync(retention: 8);
        await AppendManyAsync(log, appended, TestClients.Deadline());

        var destination = new StoredEvent[100];
        // The foreign seq lies inside this stream's range on purpose: it must not be mistaken for a position here.
        var read = log.Read(new EventCursor("otherepoch", 3), destination);

        Assert.Equal(GapReason.EpochChanged, read.Gap);
        Assert.Equal(new EventCursor(log.Epoch, appended), read.Next);
        Assert.Equal(Enumerable.Range((int)oldest, appended - (int)oldest + 1).Select(i => (long)i), destination[..read.Count].Select(e => e.Seq));
    }

    [Theory]
    [InlineData(0, 1L)]
    [InlineData(3, 4L)]
    [InlineData(3, 1_000L)]
    public async Task ReadFromACursorPastTheHeadReportsAheadAndReturnsNothing(int appended, long after)
    {
        var log = await NewLogAsync();
        await AppendManyAsync(log, appended, TestClients.Deadline());

        var cursor = new EventCursor(log.Epoch, after);
        var read = log.Read(cursor, new StoredEvent[10]);

        Assert.Equal(new LogRead(0, cursor, GapReason.Ahead), read);
    }

    [Fact]
    public async Task EmptyLogHasHeadZeroAndReadsNothing()
    {
        var log = await NewLogAsync();

        Assert.Equal(new EventCursor(log.Epoch, 0), log.Head);
        Assert.Equal(new LogRead(0, log.Head, GapReason.None), log.Read(log.Head, new StoredEvent[10]));

        var foreign = log.Read(new EventCursor("otherepoch", 7), new StoredEvent[10]);
        Assert.Equal(0, foreign.Count);
        Assert.Equal(GapReason.EpochChanged, foreign.Gap);
        Assert.Equal(log.Head, foreign.Next);
    }

    [Fact]
    public async Task HeadIsTheCursorOfTheNewestEvent()
    {
        var log = await NewLogAsync(retention: 4);

        await AppendManyAsync(log, 3, TestClients.Deadline());
        Assert.Equal(new EventCursor(log.Epoch, 3), log.Head);

        // Wrapping the ring does not move Head back.
        await AppendManyAsync(log, 7, TestClients.Deadline());
        Assert.Equal(new EventCursor(log.Epoch, 10), log.Head);
        Assert.Equal(new LogRead(0, log.Head, GapReason.None), log.Read(log.Head, new StoredEvent[4]));
    }

    [Fact]
    public async Task NextCompletesOnTheNextAppendAndNotBefore()
    {
        var cancellationToken = TestClients.Deadline();
        var log = await NewLogAsync();
        var next = log.Appended.Next;

        Assert.False(next.IsCompleted);
        Assert.Equal(0, log.Read(log.Head, new StoredEvent[1]).Count);

        await log.AppendAsync("test", Data("{}"), cancellationToken);

        await next.WaitAsync(cancellationToken);
        Assert.True(next.IsCompletedSuccessfully);

        // Each append completes one signal; readers must take a fresh one for the append after.
        var following = log.Appended.Next;
        Assert.NotSame(next, following);
        Assert.False(following.IsCompleted);
        await log.AppendAsync("test", Data("{}"), cancellationToken);
        await following.WaitAsync(cancellationToken);
    }

    [Fact]
    public async Task ConcurrentPublishersAndReadersEveryReaderSeesEveryEventOnceInOrder()
    {
        const int Publishers = 4, PerPublisher = 2_000, Readers = 4;
        const long Total = Publishers * PerPublisher;
        var cancellationToken = TestClients.Deadline(Deadlines.Load);
        var log = await CreateLogAsync((int)Total, TimeProvider.System);

        // Readers start first so they wait on the append signal while the publishers run.
        var readers = Enumerable.Range(0, Readers)
            .Select(r => Task.Run(() => ReadAllAsync(log, Total, batch: 3 + r * 17, cancellationToken), cancellationToken))
            .ToArray();
        var publishers = Enumerable.Range(0, Publishers)
            .Select(p => Task.Run(() => PublishAsync(log, p, PerPublisher, cancellationToken), cancellationToken))
            .ToArray();

        var published = await Task.WhenAll(publishers).WaitAsync(cancellationToken);
        var seen = await Task.WhenAll(readers).WaitAsync(cancellationToken);

        Assert.Equal(Enumerable.Range(1, (int)Total).Select(i => (long)i), published.SelectMany(p => p).Order());
        Assert.All(published, seqs => Assert.True(IsStrictlyIncreasing(seqs), "A publisher's own appends got decreasing seqs."));
        foreach (var reader in seen)
        {
            Assert.Equal(Enumerable.Range(1, (int)Total).Select(i => (long)i), reader.Seqs);
            Assert.Equal(0, reader.Gaps);
        }

        // Every publisher's every event is in the log once, bytes intact.
        var all = new StoredEvent[Total];
        Assert.Equal((int)Total, log.Read(new EventCursor(log.Epoch, 0), all).Count);
        var sent = all.Select(e =>
        {
            using var json = JsonDocument.Parse(e.Json);
            Assert.Equal(e.Seq, json.RootElement.GetProperty("seq").GetInt64());
            var data = json.RootElement.GetProperty("data");
            return (data.GetProperty("p").GetInt32(), data.GetProperty("i").GetInt32());
        }).ToHashSet();
        Assert.Equal(Publishers * PerPublisher, sent.Count);
    }

    [Fact]
    public async Task ConcurrentReadersOfASmallRingSeeIncreasingSeqsAndAGapAtEveryJump()
    {
        const int Publishers = 4, PerPublisher = 2_000, Readers = 4;
        const long Total = Publishers * PerPublisher;
        var cancellationToken = TestClients.Deadline(Deadlines.Load);
        var log = await CreateLogAsync(16, TimeProvider.System);

        var readers = Enumerable.Range(0, Readers)
            .Select(r => Task.Run(() => ReadAllAsync(log, Total, batch: 1 + r * 3, cancellationToken), cancellationToken))
            .ToArray();

        // One reader certain to fall behind: it starts from the beginning once 64 events have passed through a ring of 16.
        var lagging = Task.Run(
            async () =>
            {
                await WaitForHeadAsync(log, 64, cancellationToken);
                return await ReadAllAsync(log, Total, batch: 5, cancellationToken);
            },
            cancellationToken);
        var publishers = Enumerable.Range(0, Publishers)
            .Select(p => Task.Run(() => PublishAsync(log, p, PerPublisher, cancellationToken), cancellationToken))
            .ToArray();

        await Task.WhenAll(publishers).WaitAsync(cancellationToken);
        var seen = await Task.WhenAll(readers).WaitAsync(cancellationToken);
        var laggard = await lagging.WaitAsync(cancellationToken);

        // ReadAllAsync asserts the per-read rules; here: every reader reached the end, and the ring only ever lost, never reordered.
        Assert.All(seen.Append(laggard), reader =>
        {
            Assert.Equal(Total, reader.Seqs[^1]);
            Assert.True(IsStrictlyIncreasing(reader.Seqs));
        });
        Assert.True(laggard.Gaps > 0, "A reader that started 64 events behind in a ring of 16 was told of no gap.");
    }

    private sealed record ReaderResult(List<long> Seqs, int Gaps);

    // The loop every transport runs: take the signal, read, and wait only when the read found nothing.
    private static async Task<ReaderResult> ReadAllAsync(IEventLog log, long total, int batch, CancellationToken cancellationToken)
    {
        var destination = new StoredEvent[batch];
        var cursor = new EventCursor(log.Epoch, 0);
        var seqs = new List<long>();
        var gaps = 0;
        var last = 0L;
        while (last < total)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var appended = log.Appended.Next;
            var read = log.Read(cursor, destination);
            if (read.Count == 0)
            {
                Assert.Equal(GapReason.None, read.Gap);
                await appended.WaitAsync(cancellationToken);
                continue;
            }

            Assert.True(read.Gap is GapReason.None or GapReason.Expired, $"Unexpected gap reason {read.Gap}.");
            var first = destination[0].Seq;
            if (first != last + 1)
            {
                Assert.True(first > last, $"Seq went back from {last} to {first}.");
                Assert.True(read.Gap == GapReason.Expired, $"Seq jumped from {last} to {first} without a gap.");
            }

            for (var i = 0; i < read.Count; i++)
            {
                Assert.Equal(first + i, destination[i].Seq);
            }

            gaps += read.Gap == GapReason.None ? 0 : 1;
            last = destination[read.Count - 1].Seq;
            Assert.Equal(new EventCursor(log.Epoch, last), read.Next);
            seqs.AddRange(destination[..read.Count].Select(e => e.Seq));
            cursor = read.Next;
        }

        return new ReaderResult(seqs, gaps);
    }

    private static async Task<List<long>> PublishAsync(IEventLog log, int publisher, int count, CancellationToken cancellationToken)
    {
        var seqs = new List<long>(count);
        for (var i = 0; i < count; i++)
        {
            var stored = await log.AppendAsync("stress", Data($$"""{"p":{{publisher}},"i":{{i}}}"""), cancellationToken);
            seqs.Add(stored.Seq);
        }

        return seqs;
    }

    private static bool IsStrictlyIncreasing(List<long> seqs) => seqs.Zip(seqs.Skip(1)).All(pair => pair.First < pair.Second);

    private Task<IEventLog> NewLogAsync(int retention = 1_000) => CreateLogAsync(retention, _time);

    /// <summary>Appends <paramref name="count"/> events of type <c>test</c>, data <c>{"n": i}</c>, one after another; returns their seqs.</summary>
    protected static async Task<List<long>> AppendManyAsync(IEventLog log, int count, CancellationToken cancellationToken)
    {
        var seqs = new List<long>(count);
        for (var i = 0; i < count; i++)
        {
            seqs.Add((await log.AppendAsync("test", Data($$"""{"n":{{i}}}"""), cancellationToken)).Seq);
        }

        return seqs;
    }

    /// <summary>Waits until the log's head has reached <paramref name="seq"/>.</summary>
    protected static Task WaitForHeadAsync(IEventLog log, long seq, CancellationToken cancellationToken) =>
        WaitUntilAsync(log, () => log.Head.Seq >= seq, cancellationToken);

    /// <summary>Waits, woken by the log's signal, until <paramref name="done"/> holds.</summary>
    protected static async Task WaitUntilAsync(IEventLog log, Func<bool> done, CancellationToken cancellationToken)
    {
        while (true)
        {
            // The signal is taken before the check, so a change between the two still wakes this wait.
            var appended = log.Appended.Next;
            if (done())
            {
                return;
            }

            await appended.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Event data: <paramref name="json"/> parsed, as an element that outlives its document.</summary>
    internal static JsonElement Data(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }
}
