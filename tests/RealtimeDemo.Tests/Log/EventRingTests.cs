
namespace RealtimeDemo.Tests.Log;

/// <summary>What the ring does beyond the log contract: the jumps and epoch changes a mirror of a shared stream meets.</summary>
public sealed class EventRingTests
{
    private const string Epoch = "r1";

    [Fact]
    public void AJumpInSeqForgetsWhatWasHeldAndReadersBehindItGetAnExpiredGap()
    {
        var ring = new EventRing(Epoch, capacity: 8);
        for (var seq = 1; seq <= 5; seq++)
        {
            ring.Add(Event(seq));
        }

        // The mirror caught up after the stream was trimmed past it: 6..99 are gone for good.
        ring.Add(Event(100));
        ring.Add(Event(101));

        var destination = new StoredEvent[10];
        var behind = ring.Read(new EventCursor(Epoch, 3), destination);
        Assert.Equal(new LogRead(2, new EventCursor(Epoch, 101), GapReason.Expired), behind);
        Assert.Equal(new long[] { 100, 101 }, destination[..2].Select(e => e.Seq));

        Assert.Equal(new LogRead(1, new EventCursor(Epoch, 101), GapReason.None), ring.Read(new EventCursor(Epoch, 100), destination));
    }

    [Fact]
    public void AnEventThatDoesNotFollowTheHeadIsRefused()
    {
        var ring = new EventRing(Epoch, capacity: 8);
        ring.Add(Event(1));

        Assert.Throws<ArgumentException>(() => ring.Add(Event(1)));
        Assert.Throws<ArgumentException>(() => ring.Add(StoredEvent.Create(new EventCursor("other", 2), "test", EventLogContract.Data("{}"), DateTimeOffset.UnixEpoch)));
    }

    [Fact]
    public void AnEpochThatContinuesACounterStandsThereWhileEmptyAndItsFirstEventFollowsWithoutAGap()
    {
        var ring = new EventRing(Epoch, capacity: 8, start: 40);
        var destination = new StoredEvent[10];

        // A reader of the old epoch moves to where the new one stands, not to seq 0.
        Assert.Equal(new EventCursor(Epoch, 40), ring.Head);
        var crossed = ring.Read(new EventCursor("old", 45), destination);
        Assert.Equal(new LogRead(0, new EventCursor(Epoch, 40), GapReason.EpochChanged), crossed);
        Assert.Throws<ArgumentException>(() => ring.Add(Event(40)));

        ring.Add(Event(41));

        Assert.Equal(new LogRead(1, new EventCursor(Epoch, 41), GapReason.None), ring.Read(crossed.Next, destination));
        Assert.Equal(41, destination[0].Seq);
    }

    private static StoredEvent Event(long seq) => StoredEvent.Create(new EventCursor(Epoch, seq), "test", EventLogContract.Data("{}"), DateTimeOffset.UnixEpoch);
}
