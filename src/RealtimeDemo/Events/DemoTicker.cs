using System.Text.Json;
using Microsoft.Extensions.Options;

namespace RealtimeDemo.Events;

/// <summary>
/// Publishes a <c>tick</c> event at <see cref="RealtimeOptions.TickerEventsPerSecond"/>: a simulated price
/// moving in small random steps, so an idle demo still has a live stream to show.
/// </summary>
public sealed partial class DemoTicker(IEventLog log, IOptions<RealtimeOptions> options, TimeProvider time, ILogger<DemoTicker> logger)
    : BackgroundService
{
    private static readonly string[] Symbols = ["ACME", "GLOBEX", "INITECH"];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var rate = options.Value.TickerEventsPerSecond;
        if (rate <= 0)
        {
            LogTickerOff(logger);
            return;
        }

        var prices = Symbols.Select(_ => 100m).ToArray();
        var random = new Random();
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1 / rate), time);
        for (var tick = 0L; await timer.WaitForNextTickAsync(stoppingToken); tick++)
        {
            var index = (int)(tick % Symbols.Length);
            var change = Math.Round((decimal)(random.NextDouble() - 0.5) * 2m, 2);
            prices[index] = Math.Max(1m, prices[index] + change);
            var data = JsonSerializer.SerializeToElement(new Tick(Symbols[index], prices[index], change), TickJson.Default.Tick);
            await log.AppendAsync("tick", data, stoppingToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo ticker is off (Realtime:TickerEventsPerSecond = 0)")]
    private static partial void LogTickerOff(ILogger logger);

    internal sealed record Tick(string Symbol, decimal Price, decimal Change);
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[System.Text.Json.Serialization.JsonSerializable(typeof(DemoTicker.Tick))]
internal sealed partial class TickJson : System.Text.Json.Serialization.JsonSerializerContext;
