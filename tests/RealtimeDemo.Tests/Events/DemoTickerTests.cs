using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using RealtimeDemo.Events;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Events;

/// <summary>The demo ticker publishes price ticks at its configured rate, on a clock the test controls.</summary>
public sealed class DemoTickerTests
{
    private readonly ObservedTime _time = new();

    [Fact]
    public async Task PublishesOneTickPerIntervalAtTheConfiguredRate()
    {
        var cancellationToken = TestClients.Deadline();
        var log = new InMemoryEventLog(100, _time);
        using var ticker = NewTicker(log, eventsPerSecond: 4);
        await ticker.StartAsync(cancellationToken);

        // ExecuteAsync starts on the thread pool: wait until its timer exists before moving the clock.
        await _time.TimerCreated.WaitAsync(cancellationToken);
        for (var expected = 1; expected <= 3; expected++)
        {
            var appended = log.NextAppend;
            _time.Advance(TimeSpan.FromMilliseconds(250));
            await appended.WaitAsync(cancellationToken);
            Assert.Equal(expected, log.Head.Seq);
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
        var log = new InMemoryEventLog(100, _time);
        using var ticker = NewTicker(log, eventsPerSecond: 0);
        await ticker.StartAsync(cancellationToken);

        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(0, log.Head.Seq);

        ticker.EventsPerSecond = 2;
        await _time.TimerCreated.WaitAsync(cancellationToken);
        var appended = log.NextAppend;
        _time.Advance(TimeSpan.FromMilliseconds(500));
        await appended.WaitAsync(cancellationToken);

        Assert.Equal(1, log.Head.Seq);
        await ticker.StopAsync(cancellationToken);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1001)]
    [InlineData(1e-7)] // a period longer than the timer can hold
    [InlineData(double.NaN)]
    public void RateOutsideItsBoundsIsRefused(double eventsPerSecond)
    {
        using var ticker = NewTicker(new InMemoryEventLog(100, _time), eventsPerSecond: 1);

        Assert.Throws<ArgumentOutOfRangeException>(() => ticker.EventsPerSecond = eventsPerSecond);
    }

    private DemoTicker NewTicker(IEventLog log, double eventsPerSecond) =>
        new(log, Options.Create(new RealtimeOptions { TickerEventsPerSecond = eventsPerSecond }), _time, NullLogger<DemoTicker>.Instance);

    /// <summary>A fake clock that also tells when a timer has been created on it.</summary>
    private sealed class ObservedTime() : FakeTimeProvider(new DateTimeOffset(2026, 11, 23, 18, 0, 0, TimeSpan.Zero))
    {
        private readonly TaskCompletionSource _timerCreated = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task TimerCreated => _timerCreated.Task;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = base.CreateTimer(callback, state, dueTime, period);
            _timerCreated.TrySetResult();
            return timer;
        }
    }
}
