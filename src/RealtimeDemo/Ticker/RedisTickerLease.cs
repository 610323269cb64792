using RealtimeDemo.Log;
using RealtimeDemo.Log.Redis;
using StackExchange.Redis;

namespace RealtimeDemo.Ticker;

/// <summary>
/// The demo ticker's lease in Redis: a key holding the id of the host that ticks, with a short time to live that the
/// holder renews. A holder that stops gives it up, and another host takes over at its next check; one that dies (or
/// loses Redis) stops renewing, and the key expires.
/// </summary>
/// <remarks>
/// Redis is asked at most every third of the time to live, whatever the ticker's rate; a host that cannot reach Redis
/// does not tick (its appends would fail anyway).
/// </remarks>
public sealed class RedisTickerLease(RedisEventStream stream, TimeProvider time) : ITickerLease
{
    /// <summary>How long a lease outlives its last renewal: the longest the demo stream pauses when its holder dies.</summary>
    public static readonly TimeSpan TimeToLive = TimeSpan.FromSeconds(6);

    private static readonly TimeSpan ReleaseTimeout = TimeSpan.FromSeconds(2);

    private readonly string _holder = EventCursor.NewEpoch();
    private long _checked = long.MinValue;
    private bool _held;
    private bool _asked;

    public async ValueTask<bool> HoldAsync(CancellationToken cancellationToken)
    {
        if (_checked != long.MinValue && time.GetElapsedTime(_checked) < TimeToLive / 3)
        {
            return _held;
        }

        _asked = true;
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

    public async ValueTask ReleaseAsync()
    {
        // Not only when the last answer was "held": a hold cut short by stopping may still have taken the lease in
        // Redis. The script deletes it only if this host holds it.
        if (!_asked)
        {
            return;
        }

        _held = false;
        try
        {
            // Bounded: a host that cannot reach Redis stops anyway, and its lease lapses as if it had died.
            await stream.ReleaseLeaseAsync(_holder).WaitAsync(ReleaseTimeout);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException or ObjectDisposedException)
        {
            // Redis away, or its connection already closed by the stopping host: the lease lapses by itself.
        }
    }
}
