using System.Text.Json;
using Microsoft.Extensions.Options;

namespace RealtimeDemo.Events;

/// <summary>
/// Publishes a <c>tick</c> event at a steady rate: a simulated price moving in small random steps, so an idle
/// demo still has a live stream to show. The rate starts at <see cref="RealtimeOptions.TickerEventsPerSecond"/>
/// and can be changed while running (<see cref="EventsPerSecond"/>); 0 pauses it.
/// </summary>
public sealed partial class DemoTicker(IEventLog log, IOptions<RealtimeOptions> options, TimeProvider time, ILogger<DemoTicker> logger)
    : BackgroundService
{
    /// <summary>The highest rate the ticker accepts, the same bound as the setting's.</summary>
    public const double MaxEventsPerSecond = 1000;

    /// <summary>The lowest rate besides 0 (off): one tick per 100 s. Slower periods overflow the timer.</summary>
    public const double MinEventsPerSecond = 0.01;

    /// <summary>Whether <paramref name="eventsPerSecond"/> is 0 (off) or between the bounds.</summary>
    public static bool IsValidRate(double eventsPerSecond) =>
        eventsPerSecond == 0 || eventsPerSecond is >= MinEventsPerSecond and <= MaxEventsPerSecond;

    private static readonly string[] Symbols = ["ACME", "GLOBEX", "INITECH"];

    private readonly Lock _lock = new();
    private double _eventsPerSecond = options.Value.TickerEventsPerSecond;
    private PeriodicTimer? _timer;
    private TaskCompletionSource _rateChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Ticks per second now; setting it takes effect at once (the current interval is abandoned).</summary>
    public double EventsPerSecond
    {
        get => Volatile.Read(ref _eventsPerSecond);
        set
        {
            if (!IsValidRate(value))
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, $"A rate is 0 (off) or {MinEventsPerSecond} to {MaxEventsPerSecond} events per second.");
            }

            TaskCompletionSource changed;
            lock (_lock)
            {
                Volatile.Write(ref _eventsPerSecond, value);
                _timer?.Dispose();
                _timer = null;
                (changed, _rateChanged) = (_rateChanged, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            }

            LogRateChanged(logger, value);
            changed.SetResult();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var prices = Symbols.Select(_ => 100m).ToArray();
        var random = new Random();
        var tick = 0L;
        while (!stoppingToken.IsCancellationRequested)
        {
            Task rateChanged;
            PeriodicTimer? timer = null;
            double rate;
            lock (_lock)
            {
                (rateChanged, rate) = (_rateChanged.Task, _eventsPerSecond);
                if (rate > 0)
                {
                    _timer = timer = new PeriodicTimer(TimeSpan.FromSeconds(1 / rate), time);
                }
            }

            if (timer is null)
            {
                await rateChanged.WaitAsync(stoppingToken);
                continue;
            }

            // A rate change disposes the timer, which ends this loop; the next pass starts one at the new rate.
            using (timer)
            {
                // A busy machine fires the timer late and PeriodicTimer folds missed ticks into one: publish what the
                // clock says is due instead, so the rate holds under load (at most a second's backlog at once).
                var started = time.GetTimestamp();
                long published = 0;
                while (await timer.WaitForNextTickAsync(stoppingToken))
                {
                    var due = (long)((time.GetElapsedTime(started).TotalSeconds * rate) + 1e-9);
                    for (published = Math.Max(published, due - (long)Math.Ceiling(rate)); published < due; published++)
                    {
                        var index = (int)(tick++ % Symbols.Length);
                        var change = Math.Round((decimal)(random.NextDouble() - 0.5) * 2m, 2);
                        prices[index] = Math.Max(1m, prices[index] + change);
                        var data = JsonSerializer.SerializeToElement(new Tick(Symbols[index], prices[index], change), TickJson.Default.Tick);
                        await log.AppendAsync("tick", data, stoppingToken);
                    }
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo ticker rate set to {EventsPerSecond} events per second")]
    private static partial void LogRateChanged(ILogger logger, double eventsPerSecond);

    internal sealed record Tick(string Symbol, decimal Price, decimal Change);
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[System.Text.Json.Serialization.JsonSerializable(typeof(DemoTicker.Tick))]
internal sealed partial class TickJson : System.Text.Json.Serialization.JsonSerializerContext;
