using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using RealtimeDemo.Diagnostics;

using RealtimeDemo.Http;

namespace RealtimeDemo.Limits;

/// <summary>
/// Drops an SSE or WebSocket connection whose write has not completed within <see cref="ConnectionLimitsOptions.SendTimeout"/>.
/// </summary>
/// <remarks>
/// A client that stops reading costs the server little memory: events are shared bytes, and Kestrel stops taking
/// writes once a connection's output buffer is full, so the write waits. What it would cost is the connection, held
/// forever. One timer checks every watched write a few times per timeout, instead of a timer per write: a write's
/// only cost is reading the clock before and after it.
/// </remarks>
public sealed partial class SlowReaderWatchdog : IDisposable
{
    private readonly ConcurrentDictionary<Watch, byte> _watches = new();
    private readonly TimeProvider _time;
    private readonly TimeSpan _timeout;
    private readonly TransportStats _stats;
    private readonly ILogger<SlowReaderWatchdog> _logger;
    private readonly ITimer _timer;

    public SlowReaderWatchdog(IOptions<ConnectionLimitsOptions> options, TimeProvider time, TransportStats stats, ILogger<SlowReaderWatchdog> logger)
    {
        _timeout = options.Value.SendTimeout;
        _time = time;
        _stats = stats;
        _logger = logger;

        // A stuck write is found between one and one and a quarter timeouts after it started.
        var period = TimeSpan.FromTicks(Math.Clamp(_timeout.Ticks / 4, TimeSpan.TicksPerMillisecond * 25, TimeSpan.TicksPerSecond));
        _timer = time.CreateTimer(_ => Check(), null, period, period);
    }

    /// <summary>Watches the writes of one connection until the result is disposed.</summary>
    public Watch Start(Transport transport, TransportStats.OpenConnection connection, HttpContext context)
    {
        var watch = new Watch(this, transport, connection, context);
        _watches.TryAdd(watch, 0);
        return watch;
    }

    public void Dispose() => _timer.Dispose();

    private void Check()
    {
        var now = _time.GetTimestamp();
        foreach (var (watch, _) in _watches)
        {
            if (watch.IsStuck(now, _timeout))
            {
                watch.Drop();
            }
        }
    }


    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Dropped a {Transport} connection from {ClientAddress}: a write did not complete within {SendTimeoutMs:0} ms (the client stopped reading)")]
    private static partial void LogDropped(ILogger logger, string transport, double sendTimeoutMs, string? clientAddress);

    /// <summary>One connection's writes: call <see cref="Writing"/> before each and <see cref="Written"/> after.</summary>
    public sealed class Watch(SlowReaderWatchdog owner, Transport transport, TransportStats.OpenConnection connection, HttpContext context) : IDisposable
    {
        // When the write in flight started, as a timestamp; 0 between writes.
        private long _writingSince;

        // Set under the lock when the connection's handler is done with it: from then on its HttpContext may already
        // serve the next request on the same connection, and must not be aborted.
        private bool _ended;

        public void Writing() => Volatile.Write(ref _writingSince, owner._time.GetTimestamp());

        public void Written() => Volatile.Write(ref _writingSince, 0);

        internal bool IsStuck(long now, TimeSpan timeout)
        {
            var since = Volatile.Read(ref _writingSince);
            return since != 0 && owner._time.GetElapsedTime(since, now) > timeout;
        }

        internal void Drop()
        {
            lock (this)
            {
                if (_ended)
                {
                    return;
                }

                _ended = true;
                owner._watches.TryRemove(this, out _);

                // The reason is recorded before the abort, so the connection's end line names it rather than the abort.
                connection.End(EndReason.SlowReader);
                owner._stats.CountDropped(transport);
                LogDropped(owner._logger, TransportStats.NameOf(transport), owner._timeout.TotalMilliseconds, context.Connection.RemoteIpAddress?.ToString());
                context.Abort();
            }
        }

        public void Dispose()
        {
            lock (this)
            {
                _ended = true;
            }

            owner._watches.TryRemove(this, out _);
        }
    }
}
