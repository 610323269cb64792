using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Ticker;

/// <summary>The demo ticker publishes price ticks at its configured rate, on a clock the test controls.</summary>
public sealed class DemoTickerTests
{
    private readonly ObservedTime _time = new();

    [Fact]
    public async Task PublishesOneTickPerIntervalAtTheConfiguredRate()
    {
        var cancellationToken = TestClients.Deadline();
        var (log, ticker) = await StartTickerAsync(eventsPerSecond: 4, cancellationToken);
        using var _ = ticker;

        for (var expected = 1; expected <= 3; expected++)
        {
            await AdvanceUntilSeqAsync(log, TimeSpan.FromMilliseconds(250), expected, cancellationToken);
        }

        await ticker.StopAsync(cancellationToken);
        var events = new StoredEvent[10];
        var read = log.Read(new EventCursor(log.Epoch, 0), events);
        Assert.Equal(3, read.Count);
        Assert.All(events[..3], stored =>
        {
            Assert.Equal("tick", stored.Type);
            using var json = JsonDocument.Parse(stored.Json);
            var data = json.RootElement.GetProperty("data");
            Assert.False(string.IsNullOrEmpty(data.GetProperty("symbol").GetString()));
            Assert.True(data.GetProperty("price").GetDecimal() > 0);
            Assert.Equal(JsonValueKind.Number, data.GetProperty("change").ValueKind);
        });
        Assert.Equal([_time.GetUtcNow().AddMilliseconds(-500), _time.GetUtcNow().AddMilliseconds(-250), _time.GetUtcNow()], events[..3].Select(e => e.Time));
    }

    [Fact]
    public async Task RateZeroPausesTheTickerUntilARateIsSet()
    {
        var cancellationToken = TestClients.Deadline();

        // A rate first, so the ticker is known to be running (its timer exists) before it is paused.
        var (log, ticker) = await StartTickerAsync(eventsPerSecond: 2, cancellationToken);
        using var _ = ticker;
        await Task.Run(() => ticker.EventsPerSecond = 0, cancellationToken).WaitAsync(cancellationToken);
        _time.Advance(TimeSpan.FromMinutes(1));
        var set = _time.GetUtcNow();

        ticker.EventsPerSecond = 2;
        await _time.TimerCreatedAsync(cancellationToken);
        await AdvanceUntilSeqAsync(log, TimeSpan.FromMilliseconds(500), 1, cancellationToken);
        await ticker.StopAsync(cancellationToken);

        // Stopped, the ticker has appended all it will: one tick, a full new period after the rate was set. A tick
        // during the pause would be the first event, stamped earlier.
        Assert.Equal([set.AddMilliseconds(500)], ReadAll(log).Select(e => e.Time));
    }

    [Fact]
    public async Task ChangingTheRateWhileTickingTakesEffectAtOnce()
    {
        var cancellationToken = TestClients.Deadline();
        var (log, ticker) = await StartTickerAsync(eventsPerSecond: 4, cancellationToken);
        using var _ = ticker;
        await AdvanceUntilSeqAsync(log, TimeSpan.FromMilliseconds(250), 1, cancellationToken);

        // On a thread of its own: a setter that never returns must fail the test, not hang it.
        await Task.Run(() => ticker.EventsPerSecond = 1, cancellationToken).WaitAsync(cancellationToken);
        await _time.TimerCreatedAsync(cancellationToken);
        var set = _time.GetUtcNow();

        // The old 250 ms period is gone: a quarter second brings nothing, the new second brings one tick.
        _time.Advance(TimeSpan.FromMilliseconds(250));
        await AdvanceUntilSeqAsync(log, TimeSpan.FromMilliseconds(750), 2, cancellationToken);
        await ticker.StopAsync(cancellationToken);

        // Stopped, the ticker has appended all it will: the tick before the change, then one a full second after it.
        // A tick of the old period would be a third event, or the second, stamped earlier.
        Assert.Equal([set, set.AddSeconds(1)], ReadAll(log).Select(e => e.Time));
    }

    [Fact]
    public async Task ARateAboveATickPerMillisecondPublishesSeveralAtEachFiring()
    {
        var cancellationToken = TestClients.Deadline();

        // The timer fires at most once a millisecond: at 5,000 a second each firing brings the five ticks due by then.
        var (log, ticker) = await StartTickerAsync(eventsPerSecond: 5000, cancellationToken);
        using var _ = ticker;
        var start = _time.GetUtcNow();
        await AdvanceUntilSeqAsync(log, TimeSpan.FromMilliseconds(1), 5, cancellationToken);
        await AdvanceUntilSeqAsync(log, TimeSpan.FromMilliseconds(1), 10, cancellationToken);
        await ticker.StopAsync(cancellationToken);

        Assert.Equal(
            [.. Enumerable.Repeat(start.AddMilliseconds(1), 5), .. Enumerable.Repeat(start.AddMilliseconds(2), 5)],
            ReadAll(log).Select(e => e.Time));
    }

    [Fact]
    public async Task TimerFiringAHairEarlyCostsNoTick()
    {
        var cancellationToken = TestClients.Deadline();

        // A real timer fires up to a millisecond before the clock says its period is over. At one tick per second a
        // tick counted from the clock would then fall due only at the next firing, a second late, and with it the next.
        _time.TimersEarlyBy = TimeSpan.FromMilliseconds(1);
        var (log, ticker) = await StartTickerAsync(eventsPerSecond: 1, cancellationToken);
        using var _ = ticker;
        var start = _time.GetUtcNow();

        for (var expected = 1; expected <= 5; expected++)
        {
            await AdvanceUntilSeqAsync(log, TimeSpan.FromMilliseconds(999), expected, cancellationToken);
        }

        await ticker.StopAsync(cancellationToken);
        Assert.Equal(Enumerable.Range(1, 5).Select(k => start.AddMilliseconds(999 * k)), ReadAll(log).Select(e => e.Time));
    }

    /// <summary>
    /// One timer firing seen late (a busy machine), then one on time: the late one publishes every tick that fell due, up
    /// to a second's worth, all stamped with its time; the next tick still comes at its own time.
    /// </summary>
    [Theory]
    // Late by a whole second: the four ticks that fell due go out at once, and the fifth a period later.
    [InlineData(4, 1000, 4, 250)]
    // Five seconds without a firing: twenty fell due, a second's worth (four) go out, and the rest are dropped rather
    // than sent in bursts after; the next period brings one tick.
    [InlineData(4, 5000, 4, 250)]
    // 0.6 s late, nearer the second tick's time than the first's: only the one due goes out. The second comes when its
    // own time does, not dropped as a backlog it never was.
    [InlineData(1, 1600, 1, 400)]
    public async Task ALateFiringPublishesWhatFellDueAndTheRateGoesOn(double eventsPerSecond, int lateMs, int dueByThen, int nextMs)
    {
        var cancellationToken = TestClients.Deadline();
        var (log, ticker) = await StartTickerAsync(eventsPerSecond, cancellationToken);
        using var _ = ticker;
        var start = _time.GetUtcNow();

        await AdvanceUntilSeqAsync(log, TimeSpan.FromMilliseconds(lateMs), dueByThen, cancellationToken, late: true);
        await AdvanceUntilSeqAsync(log, TimeSpan.FromMilliseconds(nextMs), dueByThen + 1, cancellationToken);

        // Stopped, the ticker has appended all it will: a tick too many would be one more event, or one stamped early.
        await ticker.StopAsync(cancellationToken);
        var late = start.AddMilliseconds(lateMs);
        Assert.Equal([.. Enumerable.Repeat(late, dueByThen), late.AddMilliseconds(nextMs)], ReadAll(log).Select(e => e.Time));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(10_001)]
    [InlineData(1e-7)] // a period longer than the timer can hold
    [InlineData(double.NaN)]
    public void RateOutsideItsBoundsIsRefused(double eventsPerSecond)
    {
        using var ticker = NewTicker(new InMemoryEventLog(100, _time), eventsPerSecond: 1);

        Assert.Throws<ArgumentOutOfRangeException>(() => ticker.EventsPerSecond = eventsPerSecond);
    }

    [Fact]
    public async Task WithoutTheLeaseTheTickerSkipsItsTicksUntilItHoldsIt()
    {
        var cancellationToken = TestClients.Deadline();
        var log = new InMemoryEventLog(100, _time);
        var lease = new ObservedLease();
        using var ticker = new DemoTicker(log, lease, Options.Create(new TickerOptions { TickerEventsPerSecond = 4 }), _time, NullLogger<DemoTicker>.Instance);
        await ticker.StartAsync(cancellationToken);
        await _time.TimerCreatedAsync(cancellationToken);
        var start = _time.GetUtcNow();

        // Another host holds the lease: the tick falls due and the lease is asked (that nothing is published for it,
        // the times read back at the end show).
        _time.Advance(TimeSpan.FromMilliseconds(250));
        await lease.Asked.WaitAsync(cancellationToken);

        lease.Held = true;
        await AdvanceUntilSeqAsync(log, TimeSpan.FromMilliseconds(250), 1, cancellationToken);
        Assert.False(lease.Released);

        // Stopping gives the lease up, so another host need not wait for it to lapse.
        await ticker.StopAsync(cancellationToken);
        Assert.True(lease.Released);

        // Stopped, the ticker has appended all it will: only the tick after the lease was held, none for the one before.
        Assert.Equal([start.AddMilliseconds(500)], ReadAll(log).Select(e => e.Time));
    }

    // Starts a ticker on the fake clock; ExecuteAsync runs on the thread pool, so wait until its timer exists.
    private async Task<(InMemoryEventLog Log, DemoTicker Ticker)> StartTickerAsync(double eventsPerSecond, CancellationToken cancellationToken)
    {
        var log = new InMemoryEventLog(100, _time);
        var ticker = NewTicker(log, eventsPerSecond);
        await ticker.StartAsync(cancellationToken);
        await _time.TimerCreatedAsync(cancellationToken);
        return (log, ticker);
    }

    // Moves the clock once, then waits for the appends that brings: the log must then stand exactly at expectedSeq.
    // Late: the timers that fell due on the way fire once, after the clock has moved, as a busy machine fires them
    // (stepping through each firing, the fake clock could let the ticker read a time on the way).
    private async Task AdvanceUntilSeqAsync(InMemoryEventLog log, TimeSpan step, long expectedSeq, CancellationToken cancellationToken, bool late = false)
    {
        var appended = log.Appended.Next;
        if (late)
        {
            _time.AdvanceLate(step);
        }
        else
        {
            _time.Advance(step);
        }

        while (log.Head.Seq < expectedSeq)
        {
            await appended.WaitAsync(cancellationToken);
            appended = log.Appended.Next;
        }

        Assert.Equal(expectedSeq, log.Head.Seq);
    }

    private static IEnumerable<StoredEvent> ReadAll(InMemoryEventLog log)
    {
        var events = new StoredEvent[100];
        return events[..log.Read(new EventCursor(log.Epoch, 0), events).Count];
    }

    private DemoTicker NewTicker(IEventLog log, double eventsPerSecond) =>
        new(log, new SoleTickerLease(), Options.Create(new TickerOptions { TickerEventsPerSecond = eventsPerSecond }), _time, NullLogger<DemoTicker>.Instance);

    /// <summary>A lease the test hands out or withholds, and that tells when it was asked and whether it was given up.</summary>
    private sealed class ObservedLease : ITickerLease
    {
        public volatile bool Held;

        public volatile bool Released;

        public SemaphoreSlim Asked { get; } = new(0);

        public ValueTask<bool> HoldAsync(CancellationToken cancellationToken)
        {
            // The answer is fixed before the test hears of the question, so it cannot change in between.
            var held = Held;
            Asked.Release();
            return ValueTask.FromResult(held);
        }

        public ValueTask ReleaseAsync()
        {
            Released = true;
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>A fake clock that also tells when a timer has been created on it, and can make its timers fire early or late.</summary>
    private sealed class ObservedTime() : FakeTimeProvider(new DateTimeOffset(2026, 11, 23, 18, 0, 0, TimeSpan.Zero))
    {
        private readonly SemaphoreSlim _created = new(0);
        private readonly List<(TimerCallback Callback, object? State)> _held = [];

        /// <summary>How much shorter than asked the due time and period of every timer created from now on are.</summary>
        public TimeSpan TimersEarlyBy { get; set; }

        // While true, timers that fall due are held instead of fired.
        private bool _holding;

        /// <summary>
        /// Moves the clock, holding the timers that fall due on the way, then fires each of them once at the time
        /// reached: late, as a busy machine fires them.
        /// </summary>
        public void AdvanceLate(TimeSpan step)
        {
            _holding = true;
            Advance(step);
            _holding = false;
            var held = _held.Distinct().ToList(); // one firing per timer
            _held.Clear();
            foreach (var (callback, state) in held)
            {
                callback(state);
            }
        }

        /// <summary>Waits for the next timer created on this clock (each creation is awaited once).</summary>
        public Task TimerCreatedAsync(CancellationToken cancellationToken) => _created.WaitAsync(cancellationToken);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = base.CreateTimer(
                firing =>
                {
                    if (_holding)
                    {
                        _held.Add((callback, firing));
                    }
                    else
                    {
                        callback(firing);
                    }
                },
                state,
                Early(dueTime),
                Early(period));
            _created.Release();
            return timer;
        }

        // Infinite (-1 ms) and zero stay as they are.
        private TimeSpan Early(TimeSpan time) => time > TimersEarlyBy ? time - TimersEarlyBy : time;
    }
}
