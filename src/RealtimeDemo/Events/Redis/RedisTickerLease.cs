using StackExchange.Redis;

namespace RealtimeDemo.Events.Redis;

/// <summary>
/// The demo ticker's lease in Redis: a key holding the id of the host that ticks, with a short time to live that the
/// holder renews. When the holder stops (or loses Redis), the key expires and another host takes over.
/// </summary>
/// <remarks>
/// Redis is asked at most every third of the time to live, whatever the ticker's rate; a host that cannot reach Redis
/// does not tick (its appends would fail anyway).
/// </remarks>
public sealed class RedisTickerLease(RedisEventStream stream, TimeProvider time) : ITickerLease
{
    /// <summary>How long a lease outlives its last renewal: the longest the demo stream pauses when its holder dies.</summary>
    public static readonly TimeSpan TimeToLive = TimeSpan.FromSeconds(6);

    private readonly string _holder = EventCursor.NewEpoch();
    private long _checked = long.MinValue;
    private bool _held;

    public async ValueTask<bool> HoldAsync(CancellationToken cancellationToken)
    {
        if (_checked != long.MinValue && time.GetElapsedTime(_checked) < TimeToLive / 3)
        {
            return _held;
        }

        try
        {
            _held = await stream.HoldLeaseAsync(_holder, TimeToLive).WaitAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is RedisException or RedisTimeoutException)
        {
            _held = false;
        }

        _checked = time.GetTimestamp();
        return _held;
    }
}
