using Microsoft.Extensions.Time.Testing;
using RealtimeDemo.Tests.Infrastructure;
using StackExchange.Redis;

namespace RealtimeDemo.Tests.Ticker;

/// <summary>
/// The ticker lease on a real Redis: one host of several holds it and ticks; it passes to another host when the holder
/// stops renewing or gives it up, and only the holder can give it up.
/// </summary>
public sealed class RedisTickerLeaseTests(RedisServer redis) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private ConnectionMultiplexer? _connection;

    private ConnectionMultiplexer Connection => _connection ??= redis.Connect();

    [Fact]
    public async Task OnlyOneHostHoldsTheTickerLeaseUntilItLapses()
    {
        var cancellationToken = TestClients.Deadline();
        var prefix = RedisServer.NewKeyPrefix();
        var stream = new RedisEventStream(Connection, prefix, 100);
        var lease = TimeSpan.FromSeconds(30); // far longer than the test: it lapses only when the test makes it

        Assert.True(await stream.HoldLeaseAsync("host-a", lease));
        Assert.False(await stream.HoldLeaseAsync("host-b", lease));
        Assert.True(await stream.HoldLeaseAsync("host-a", lease)); // the holder renews
        Assert.False(await stream.HoldLeaseAsync("host-b", lease));

        // The holder's last renewal is for 1 ms; then it stops renewing, the key expires and another host takes over.
        Assert.True(await stream.HoldLeaseAsync("host-a", TimeSpan.FromMilliseconds(1)));
        await TestClients.WaitUntilAsync(() => stream.HoldLeaseAsync("host-b", lease), cancellationToken);

        Assert.False(await stream.HoldLeaseAsync("host-a", lease));
    }

    [Fact]
    public async Task AReleasedTickerLeaseIsTakenAtTheNextHostsNextCheck()
    {
        var stream = new RedisEventStream(Connection, RedisServer.NewKeyPrefix(), 100);
        var clock = new FakeTimeProvider();
        var hostA = new RedisTickerLease(stream, clock);
        var hostB = new RedisTickerLease(stream, clock);

        Assert.True(await hostA.HoldAsync(TestClients.Deadline()));
        Assert.False(await hostB.HoldAsync(TestClients.Deadline()));

        // Host B gives up nothing it does not hold; host A, stopping, gives its lease up long before it would lapse.
        await hostB.ReleaseAsync();
        clock.Advance(RedisTickerLease.TimeToLive / 3);
        Assert.False(await hostB.HoldAsync(TestClients.Deadline()));
        await hostA.ReleaseAsync();
        clock.Advance(RedisTickerLease.TimeToLive / 3);
        Assert.True(await hostB.HoldAsync(TestClients.Deadline()));
    }

    [Fact]
    public async Task OnlyTheHolderCanReleaseTheTickerLease()
    {
        var stream = new RedisEventStream(Connection, RedisServer.NewKeyPrefix(), 100);
        var lease = TimeSpan.FromSeconds(30);

        Assert.True(await stream.HoldLeaseAsync("host-a", lease));
        await stream.ReleaseLeaseAsync("host-b");
        Assert.False(await stream.HoldLeaseAsync("host-b", lease));

        await stream.ReleaseLeaseAsync("host-a");
        Assert.True(await stream.HoldLeaseAsync("host-b", lease));
        Assert.False(await stream.HoldLeaseAsync("host-a", lease));
    }

    public ValueTask InitializeAsync()
    {
        redis.RequireRedis();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }
    }
}
