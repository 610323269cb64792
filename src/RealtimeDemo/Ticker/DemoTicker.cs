using System.Text.Json;
using Microsoft.Extensions.Options;
using RealtimeDemo.Log;

namespace RealtimeDemo.Ticker;

/// <summary>
/// Publishes a <c>tick</c> event at a steady rate: a simulated price moving in small random steps, so an idle
/// demo still has a live stream to show. The rate starts at <see cref="TickerOptions.TickerEventsPerSecond"/>
/// and can be changed while running (<see cref="EventsPerSecond"/>); 0 pauses it. Where several hosts share the log,
/// only the holder of the <see cref="ITickerLease"/> publishes; the others skip their ticks.
/// </summary>
public sealed partial class DemoTicker(IEventLog log, ITickerLease lease, IOptions<TickerOptions> options, TimeProvider time, ILogger<DemoTicker> logger)
    : BackgroundService
{
    private static readonly string[] Symbols = ["ACME", "GLOBEX", "INITECH"];

    private readonly SteadyRate _rate = new(options.Value.TickerEventsPerSecond, time);

    /// <summary>Ticks per second now; setting it takes effect at once (see <see cref="SteadyRate"/> for the bounds).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The rate is neither 0 nor between the bounds.</exception>
    public double EventsPerSecond
    {
        get => _rate.EventsPerSecond;
        set
        {
            _rate.EventsPerSecond = value;
            LogRateChanged(logger, value);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var prices = Symbols.Select(_ => 100m).ToArray();
        var random = new Random();
        var tick = 0L;
        try
        {
            while (true)
            {
                var (due, _) = await _rate.WaitForTicksAsync(stoppingToken);
                if (!await lease.HoldAsync(stoppingToken))
                {
                    continue;
                }

                try
                {
                    for (; due > 0; due--)
                    {
                        var index = (int)(tick++ % Symbols.Length);
                        var change = Math.Round((decimal)(random.NextDouble() - 0.5) * 2m, 2);
                        prices[index] = Math.Max(1m, prices[index] + change);
                        var data = JsonSerializer.SerializeToElement(new Tick(Symbols[index], prices[index], change), TickJson.Default.Tick);
                        await log.AppendAsync("tick", data, stoppingToken);
                    }
                }
                catch (EventLogUnavailableException exception)
                {
                    // The demo stream pauses while the store is away; an exception here would stop the whole host.
                    LogTickSkipped(logger, exception.Message);
                }
            }
        }
        finally
        {
            // Stopping (a restart, a scale-down): another host sharing the log takes the ticking over at once.
            await lease.ReleaseAsync();
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Demo tick skipped: {Reason}")]
    private static partial void LogTickSkipped(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo ticker rate set to {EventsPerSecond} events per second")]
    private static partial void LogRateChanged(ILogger logger, double eventsPerSecond);

    internal sealed record Tick(string Symbol, decimal Price, decimal Change);
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[System.Text.Json.Serialization.JsonSerializable(typeof(DemoTicker.Tick))]
internal sealed partial class TickJson : System.Text.Json.Serialization.JsonSerializerContext;
