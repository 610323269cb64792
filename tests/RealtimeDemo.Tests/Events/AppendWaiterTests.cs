using Microsoft.Extensions.Time.Testing;
using RealtimeDemo.Events;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Events;

/// <summary>The reusable wait every long-lived reader uses: woken by the signal, by its timeout or by cancellation, and never lost.</summary>
public sealed class AppendWaiterTests
{
    private readonly AppendSignal _signal = new();
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task AWaitEndsTrueWhenTheSignalFires()
    {
        using var waiter = new AppendWaiter(_signal, _time, CancellationToken.None);
        var wait = waiter.WaitAsync(_signal.Version, Timeout.InfiniteTimeSpan);
        Assert.False(wait.IsCompleted);

        _signal.Fire();

        Assert.True(await wait.AsTask().WaitAsync(TestClients.Deadline(5)));
    }

    [Fact]
    public async Task AWaitEndsFalseWhenItsTimeoutPassesFirst()
    {
        using var waiter = new AppendWaiter(_signal, _time, CancellationToken.None);
        var wait = waiter.WaitAsync(_signal.Version, TimeSpan.FromSeconds(15));

        _time.Advance(TimeSpan.FromSeconds(14.9));
        Assert.False(wait.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(0.1));

        Assert.False(await wait.AsTask().WaitAsync(TestClients.Deadline(5)));
    }

    [Fact]
    public async Task AWaitForAVersionTheSignalHasPassedEndsAtOnce()
    {
        using var waiter = new AppendWaiter(_signal, _time, CancellationToken.None);
        var version = _signal.Version;
        _signal.Fire();

        var wait = waiter.WaitAsync(version, Timeout.InfiniteTimeSpan);

        Assert.True(wait.IsCompleted);
        Assert.True(await wait);
        Assert.Equal(0, _signal.Listed);
    }

    [Fact]
    public async Task CancellationEndsTheWaitInProgressAndEveryLaterOne()
    {
        using var stop = new CancellationTokenSource();
        using var waiter = new AppendWaiter(_signal, _time, stop.Token);
        var wait = waiter.WaitAsync(_signal.Version, Timeout.InfiniteTimeSpan);

        await stop.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.AsTask().WaitAsync(TestClients.Deadline(5)));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiter.WaitAsync(_signal.Version, Timeout.InfiniteTimeSpan).AsTask());
    }

    [Fact]
    public async Task WaitsThatTimeOutKeepOnePlaceOnTheListAndTheNextFiringStillWakes()
    {
        using var waiter = new AppendWaiter(_signal, _time, CancellationToken.None);
        var version = _signal.Version;
        for (var i = 0; i < 3; i++)
        {
            var silent = waiter.WaitAsync(version, TimeSpan.FromSeconds(1));
            _time.Advance(TimeSpan.FromSeconds(1));
            Assert.False(await silent.AsTask().WaitAsync(TestClients.Deadline(5)));
        }

        Assert.Equal(1, _signal.Listed);
        var wait = waiter.WaitAsync(version, TimeSpan.FromSeconds(1));
        _signal.Fire();

        Assert.True(await wait.AsTask().WaitAsync(TestClients.Deadline(5)));
        Assert.Equal(0, _signal.Listed);
    }

    [Fact]
    public async Task AFiringBetweenWaitsOfTheSameVersionIsNotLost()
    {
        using var waiter = new AppendWaiter(_signal, _time, CancellationToken.None);
        var version = _signal.Version;
        var timedOut = waiter.WaitAsync(version, TimeSpan.FromSeconds(1));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(await timedOut.AsTask().WaitAsync(TestClients.Deadline(5)));

        // The reader took its version before this firing, and checked the log before the event was visible.
        _signal.Fire();
        var wait = waiter.WaitAsync(version, Timeout.InfiniteTimeSpan);

        Assert.True(wait.IsCompleted);
        Assert.True(await wait);
    }

    [Fact]
    public void DisposingAWaiterTakesItOffTheList()
    {
        var waiter = new AppendWaiter(_signal, _time, CancellationToken.None);
        _ = waiter.WaitAsync(_signal.Version, TimeSpan.FromSeconds(1));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, _signal.Listed);

        waiter.Dispose();

        Assert.Equal(0, _signal.Listed);
        Assert.Throws<InvalidOperationException>(() => waiter.WaitAsync(_signal.Version, Timeout.InfiniteTimeSpan));
    }

    [Fact]
    public async Task ManyWaitersAreWokenByOneFiringEachExactlyOnce()
    {
        var waiters = Enumerable.Range(0, 1000).Select(_ => new AppendWaiter(_signal, _time, CancellationToken.None)).ToList();
        try
        {
            var version = _signal.Version;
            var waits = waiters.Select(waiter => waiter.WaitAsync(version, Timeout.InfiniteTimeSpan).AsTask()).ToList();
            Assert.Equal(1000, _signal.Listed);

            _signal.Fire();

            Assert.All(await Task.WhenAll(waits).WaitAsync(TestClients.Deadline(10)), Assert.True);
            Assert.Equal(0, _signal.Listed);
        }
        finally
        {
            waiters.ForEach(waiter => waiter.Dispose());
        }
    }
}
