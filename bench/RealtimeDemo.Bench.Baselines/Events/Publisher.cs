using System.Globalization;
using System.Security.Cryptography;
using RealtimeDemo.Ticker;

namespace RealtimeDemo.Bench.Baselines.Events;

/// <summary>
/// The one source of events: at <see cref="EventsPerSecond"/> it makes a <c>tick</c> with the next seq
/// (1, 2, 3 … with no holes), encodes it once and hands it to every baseline.
/// </summary>
public sealed partial class Publisher(IEnumerable<IEventSink> sinks, ILogger<Publisher> logger) : BackgroundService
{
    private readonly IEventSink[] _sinks = [.. sinks];
    private readonly Lock _lock = new();

    // The same pacing as RealtimeDemo's demo ticker (this project compiles its SteadyRate file), so both sides of a
    // comparison publish alike under load.
    private readonly SteadyRate _rate = new(0, TimeProvider.System);
    private long _seq;

    /// <summary>Fixed for the process, like RealtimeDemo's in-memory epoch: short lower-case hex.</summary>
    public string Epoch { get; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    /// <summary>The rate and the seq of the last event published, read together.</summary>
    public (double EventsPerSecond, long Seq) State
    {
        get
        {
            lock (_lock)
            {
                return (_rate.EventsPerSecond, _seq);
            }
        }
    }

    /// <summary>
    /// Changes the rate at once and returns the state after it. Publishing happens under the same lock and checks the
    /// rate's generation, so once this returns with 0 the returned seq is final: the bench reads "the last event" from it.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The rate is neither 0 nor within <see cref="SteadyRate"/>'s bounds.</exception>
    public (double EventsPerSecond, long Seq) SetRate(double eventsPerSecond)
    {
        lock (_lock)
        {
            _rate.EventsPerSecond = eventsPerSecond;
            return (_rate.EventsPerSecond, _seq);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var random = new Random();
        var price = 100m;
        try
        {
            while (true)
            {
                var (due, generation) = await _rate.WaitForTicksAsync(stoppingToken);
                for (var published = true; published && due > 0; due--)
                {
                    var change = Math.Round((decimal)(random.NextDouble() - 0.5) * 2m, 2);
                    price = Math.Max(1m, price + change);
                    published = TryPublish(generation, new TickData("ACME", price, change));
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private bool TryPublish(long generation, TickData data)
    {
        lock (_lock)
        {
            // A rate change between the tick and here: this tick belongs to the old rate.
            if (generation != _rate.Generation)
            {
                return false;
            }

            var seq = _seq + 1;
            var ev = EncodedEvent.Create(new BaselineEvent(string.Create(CultureInfo.InvariantCulture, $"{Epoch}-{seq}"), seq, "tick", data, EncodedEvent.FormatTime(DateTimeOffset.UtcNow)));
            foreach (var sink in _sinks)
            {
                try
                {
                    sink.Publish(ev);
                }
                catch (Exception e)
                {
                    // One broken baseline must not stop the others (or leave a hole in the seq).
                    LogSinkFailed(logger, e, sink.GetType().Name, seq);
                }
            }

            _seq = seq;
            return true;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Sink {Sink} failed to take event {Seq}")]
    private static partial void LogSinkFailed(ILogger logger, Exception exception, string sink, long seq);
}
