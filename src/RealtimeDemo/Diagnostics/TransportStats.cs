using System.Diagnostics.Metrics;
using RealtimeDemo.Http;

namespace RealtimeDemo.Diagnostics;

/// <summary>
/// Per-transport counters: plain numbers for <c>GET /api/stats</c>, which the page reads, that the instruments on the
/// <c>RealtimeDemo</c> meter observe when metrics are collected. Counting is an atomic add, nothing more: deliveries
/// are counted once per batch written to each client. Also writes the one structured log line that ends every long-lived connection.
/// </summary>
public sealed partial class TransportStats
{
    public const string MeterName = "RealtimeDemo";

    private static readonly string[] Names = ["short-poll", "long-poll", "sse", "websocket"];

    private readonly Counters[] _counters = [new(), new(), new(), new()];
    private readonly TimeProvider _time;
    private readonly ILogger<TransportStats> _logger;

    public TransportStats(IMeterFactory meters, TimeProvider time, ILogger<TransportStats> logger)
    {
        var meter = meters.Create(MeterName);
        meter.CreateObservableCounter("realtime.requests", () => Observe(c => Interlocked.Read(ref c.Requests)), "{request}", "HTTP requests and upgrades served, by transport");
        meter.CreateObservableCounter("realtime.events.delivered", () => Observe(c => Interlocked.Read(ref c.Delivered)), "{event}", "Events written to clients, by transport");
        meter.CreateObservableUpDownCounter("realtime.connections.open", () => Observe(c => Interlocked.Read(ref c.Open)), "{connection}", "Long-lived connections open now, by transport");
        meter.CreateObservableCounter("realtime.connections.dropped", () => Observe(c => Interlocked.Read(ref c.Dropped)), "{connection}", "Connections dropped because the client stopped reading, by transport");
        _time = time;
        _logger = logger;
    }

    public static string NameOf(Transport transport) => Names[(int)transport];

    /// <summary>Counts one request: a poll, a stream or an upgrade.</summary>
    public void CountRequest(Transport transport)
    {
        Interlocked.Increment(ref _counters[(int)transport].Requests);
    }

    /// <summary>Counts a poll response that carried no event: the cost that polling's reputation rests on.</summary>
    public void CountEmptyResponse(Transport transport) => Interlocked.Increment(ref _counters[(int)transport].EmptyResponses);

    public void CountDelivered(Transport transport, int events)
    {
        if (events == 0)
        {
            return;
        }

        Interlocked.Add(ref _counters[(int)transport].Delivered, events);
    }

    /// <summary>Counts a connection dropped because its client stopped reading.</summary>
    public void CountDropped(Transport transport)
    {
        Interlocked.Increment(ref _counters[(int)transport].Dropped);
    }

    /// <summary>Marks a long-lived connection open; dispose the result when it ends.</summary>
    public OpenConnection Open(Transport transport)
    {
        Interlocked.Increment(ref _counters[(int)transport].Open);
        return new OpenConnection(this, transport, _time.GetTimestamp());
    }

    /// <summary>A snapshot for <c>GET /api/stats</c>.</summary>
    public IReadOnlyDictionary<string, TransportSnapshot> Snapshot() =>
        Enum.GetValues<Transport>().ToDictionary(NameOf, t =>
        {
            var c = _counters[(int)t];
            return new TransportSnapshot(
                Interlocked.Read(ref c.Requests),
                Interlocked.Read(ref c.EmptyResponses),
                Interlocked.Read(ref c.Delivered),
                Interlocked.Read(ref c.Open),
                Interlocked.Read(ref c.Dropped));
        });

    private void Close(Transport transport, long startedAt, long delivered, string reason)
    {
        Interlocked.Decrement(ref _counters[(int)transport].Open);
        LogConnectionEnded(_logger, NameOf(transport), _time.GetElapsedTime(startedAt).TotalMilliseconds, delivered, reason);
    }

    private IEnumerable<Measurement<long>> Observe(Func<Counters, long> read) =>
        Enum.GetValues<Transport>().Select(t => new Measurement<long>(read(_counters[(int)t]), new KeyValuePair<string, object?>("transport", NameOf(t))));

    [LoggerMessage(Level = LogLevel.Information,
        Message = "{Transport} connection ended after {DurationMs:0} ms, {Delivered} events delivered: {Reason}")]
    private static partial void LogConnectionEnded(ILogger logger, string transport, double durationMs, long delivered, string reason);

    private sealed class Counters
    {
        public long Requests;
        public long EmptyResponses;
        public long Delivered;
        public long Open;
        public long Dropped;
    }

    /// <summary>One long-lived connection, from open to its log line.</summary>
    public sealed class OpenConnection(TransportStats stats, Transport transport, long startedAt) : IDisposable
    {
        private string? _reason;
        private long _delivered;

        public void CountDelivered(int events)
        {
            _delivered += events;
            stats.CountDelivered(transport, events);
        }

        /// <summary>Records why the connection ended; the first reason given wins (an exception leaves "error").</summary>
        public void End(string reason) => Interlocked.CompareExchange(ref _reason, reason, null);

        public void Dispose() => stats.Close(transport, startedAt, _delivered, _reason ?? EndReason.Error);
    }
}

/// <summary>One transport's counters since the host started.</summary>
public sealed record TransportSnapshot(long Requests, long EmptyResponses, long Delivered, long Open, long Dropped);

/// <summary>Why a long-lived connection ended, as logged.</summary>
public static class EndReason
{
    public const string ClientClosed = "client closed";
    public const string ServerShutdown = "server shutting down";
    public const string Delivered = "events delivered";
    public const string Timeout = "timeout with nothing new";
    public const string Error = "error";
    public const string SlowReader = "dropped: the client stopped reading";
    public const string TokenExpired = "token expired";
}
