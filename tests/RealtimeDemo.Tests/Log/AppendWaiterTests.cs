using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Log;

/// <summary>The reusable wait every long-lived reader uses: woken by the signal, by its timeout or by cancellation, and never lost.</summary>
public sealed class AppendWaiterTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    private readonly AppendSignal _signal = new();
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task AWaitEndsTrueWhenTheSignalFires()
    {
        using var waiter = Waiter(Timeout.InfiniteTimeSpan);
        var wait = waiter.WaitAsync(_signal.Version);
        Assert.False(wait.IsCompleted);

        _signal.Fire();

        Assert.True(await wait.AsTask().WaitAsync(TestClients.Deadline()));
    }

    [Fact]
    public async Task AWaitEndsFalseWhenItsTimeoutPassesFirst()
    {
        using var waiter = Waiter(TimeSpan.FromSeconds(15));
        var wait = waiter.WaitAsync(_signal.Version);

        _time.Advance(TimeSpan.FromSeconds(14.9));
        Assert.False(wait.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(0.1));

        Assert.False(await wait.AsTask().WaitAsync(TestClients.Deadline()));
    }

    [Theory]
    [InlineData(0)] // the first wait's timer, armed until 15 s, fires during the second wait
    [InlineData(6)] // it fires at 15 s with no wait in progress: the second wait, begun at 16 s, must arm its own
    public async Task AWaitAfterASignalTimesOutAWholeTimeoutAfterItsOwnStart(int secondsBetweenWaits)
    {
        using var waiter = Waiter(TimeSpan.FromSeconds(15));
        var first = waiter.WaitAsync(_signal.Version);
        _time.Advance(TimeSpan.FromSeconds(10));
        _signal.Fire();
        Assert.True(await first.AsTask().WaitAsync(TestClients.Deadline()));

        _time.Advance(TimeSpan.FromSeconds(secondsBetweenWaits));
        var second = waiter.WaitAsync(_signal.Version);
        _time.Advance(TimeSpan.FromSeconds(14.9));
        Assert.False(second.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(0.1));

        Assert.True(second.IsCompleted, "The second wait did not time out 15 s after it began.");
        Assert.False(await second);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AFiringRacingAWaitAlwaysEndsTheWait(bool listedByATimedOutWait)
    {
        // Fire on one thread, the reader's version check and wait on the other, released together each round: a wait
        // for a version taken before the firing must end true however the two interleave.
        var cancellationToken = TestClients.Deadline(Deadlines.Slow);
        using var waiter = Waiter(Second);
        using var start = new Barrier(2);
        var deadline = Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);

        // Up to 20,000 rounds, which an idle machine runs in about a second; a loaded one runs as many as fit in 10 s
        // (each round's handoffs between threads can cost milliseconds there) rather than running out of time.
        var elapsed = Stopwatch.StartNew();
        var round = 0;
        for (; round < 20_000 && elapsed.Elapsed < TimeSpan.FromSeconds(10); round++)
        {
            var version = _signal.Version;
            if (listedByATimedOutWait)
            {
                // Listed at this version by a wait that timed out: the racing wait finds itself already listed.
                var timedOut = waiter.WaitAsync(version);
                _time.Advance(Second);
                Assert.False(await timedOut.AsTask().WaitAsync(cancellationToken));
            }

            var firing = Task.Run(
                () =>
                {
                    start.SignalAndWait(cancellationToken);
                    _signal.Fire();
                },
                cancellationToken);
            start.SignalAndWait(cancellationToken);
            var wait = waiter.WaitAsync(version).AsTask();

            // Nothing moves the fake clock from here: only the firing can end the wait; the deadline fails a lost one.
            await Task.WhenAny(wait, deadline);
            Assert.True(wait.IsCompleted, $"Round {round}: the wait never saw the firing.");
            Assert.True(await wait);
            await firing.WaitAsync(cancellationToken);
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"{round:N0} rounds in {elapsed.Elapsed.TotalSeconds:0.0} s");
    }

    [Fact]
    public async Task AWaitForAVersionTheSignalHasPassedEndsAtOnce()
    {
        using var waiter = Waiter(Timeout.InfiniteTimeSpan);
        var version = _signal.Version;
        _signal.Fire();

        var wait = waiter.WaitAsync(version);

        Assert.True(wait.IsCompleted);
        Assert.True(await wait);
        Assert.Equal(0, _signal.Listed);
    }

    [Fact]
    public async Task CancellationEndsTheWaitInProgressAndEveryLaterOne()
    {
        using var stop = new CancellationTokenSource();
        using var waiter = new AppendWaiter(_signal, _time, Timeout.InfiniteTimeSpan, stop.Token);
        var wait = waiter.WaitAsync(_signal.Version);

        await stop.CancelAsync();

        // Completed by the cancellation itself, not by a deadline: no wait outlives its connection.
        Assert.True(wait.IsCompleted);
        Assert.Equal(stop.Token, (await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await wait)).CancellationToken);
        var later = waiter.WaitAsync(_signal.Version);
        Assert.True(later.IsCompleted);
        Assert.Equal(stop.Token, (await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await later)).CancellationToken);
    }

    [Fact]
    public async Task WaitsThatTimeOutStayListedAndTheNextFiringStillWakes()
    {
        using var waiter = Waiter(Second);
        var version = _signal.Version;
        for (var i = 0; i < 3; i++)
        {
            var silent = waiter.WaitAsync(version);
            _time.Advance(Second);
            Assert.False(await silent.AsTask().WaitAsync(TestClients.Deadline()));
        }

        Assert.Equal(1, _signal.Listed);
        var wait = waiter.WaitAsync(version);
        _signal.Fire();

        Assert.True(await wait.AsTask().WaitAsync(TestClients.Deadline()));
        Assert.Equal(0, _signal.Listed);
    }

    [Fact]
    public async Task AFiringBetweenWaitsOfTheSameVersionIsNotLost()
    {
        using var waiter = Waiter(Second);
        var version = _signal.Version;
        var timedOut = waiter.WaitAsync(version);
        _time.Advance(Second);
        Assert.False(await timedOut.AsTask().WaitAsync(TestClients.Deadline()));

        // The reader took its version before this firing, and checked the log before the event was visible.
        _signal.Fire();
        var wait = waiter.WaitAsync(version);

        Assert.True(wait.IsCompleted);
        Assert.True(await wait);
    }

    [Fact]
    public void DisposingAWaiterTakesItOffTheList()
    {
        var waiter = Waiter(Second);
        _ = waiter.WaitAsync(_signal.Version);
        _time.Advance(Second);
        Assert.Equal(1, _signal.Listed);

        waiter.Dispose();

        Assert.Equal(0, _signal.Listed);
        Assert.Throws<InvalidOperationException>(() => waiter.WaitAsync(_signal.Version));
    }

    [Fact]
    public async Task ManyWaitersAreWokenByOneFiringEachExactlyOnce()
    {
        var waiters = Enumerable.Range(0, 1000).Select(_ => Waiter(Timeout.InfiniteTimeSpan)).ToList();
        try
        {
            var version = _signal.Version;
            var waits = waiters.Select(waiter => waiter.WaitAsync(version).AsTask()).ToList();
            Assert.Equal(1000, _signal.Listed);

            _signal.Fire();

            Assert.All(await Task.WhenAll(waits).WaitAsync(TestClients.Deadline()), Assert.True);
            Assert.Equal(0, _signal.Listed);
        }
        finally
        {
            waiters.ForEach(waiter => waiter.Dispose());
        }
    }

    private AppendWaiter Waiter(TimeSpan timeout) => new(_signal, _time, timeout, CancellationToken.None);
}
