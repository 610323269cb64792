using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using RealtimeDemo.Bench.Drills;

namespace RealtimeDemo.Bench.Fleet;

/// <summary>
/// The bench as one of the fleet mode's client processes (<c>--fleet-client</c>): a process may hold at most 20,000
/// descriptors here, so tens of thousands of connections take several. It opens its share of the connections (client
/// i to host i mod hosts, as a balancer would spread them), each a drill client that checks every seq, and talks to the
/// bench over its standard streams: a status line every second, and on <c>finish SEQ</c> it waits until every
/// connection has received up to SEQ, closes them and writes its result. Its input closing stops it.
/// </summary>
internal static class FleetClientRole
{
    public const string Flag = "--fleet-client";

    /// <summary>What starts each line the bench reads from it.</summary>
    public const string StatusPrefix = "fleet-status ";

    public const string ResultPrefix = "fleet-result ";

    /// <summary>Connections opened per second, by each client process: the hosts accept them as they come.</summary>
    private const int ConnectsPerSecond = 1_000;

    /// <summary>How long connections may take to receive the last event once publishing has stopped.</summary>
    private static readonly TimeSpan Drain = TimeSpan.FromSeconds(30);

    /// <summary>The command line of a client process: what <see cref="RunAsync"/> reads.</summary>
    public static string[] Arguments(string transport, IReadOnlyList<Uri> hosts, int offset, int count, long firstSeq, string? cursor) =>
    [
        Flag, transport, string.Join(',', hosts), Text(offset), Text(count), Text(firstSeq), .. cursor is null ? Array.Empty<string>() : [cursor],
    ];

    public static async Task<int> RunAsync(string[] args)
    {
        if (args is not [var transport, var hostList, var offsetText, var countText, var firstSeqText, .. var rest] || rest.Length > 1)
        {
            await Console.Error.WriteLineAsync($"{Flag} TRANSPORT HOSTS OFFSET COUNT FIRST-SEQ [CURSOR]: started by the bench's --fleet, not by hand.");
            return 2;
        }

        FileLimit.Raise();

        // Ctrl+C in a terminal reaches every process of the group: the bench decides when its client processes stop.
        using var onInterrupt = System.Runtime.InteropServices.PosixSignalRegistration.Create(
            System.Runtime.InteropServices.PosixSignal.SIGINT, signal => signal.Cancel = true);
        var hosts = hostList.Split(',').Select(host => new Uri(host)).ToArray();
        var (offset, count, firstSeq) = (int.Parse(offsetText, CultureInfo.InvariantCulture), int.Parse(countText, CultureInfo.InvariantCulture),
            long.Parse(firstSeqText, CultureInfo.InvariantCulture));
        var tally = new DrillTally(new DrillClock());
        var contexts = hosts.Select(host => new DrillContext(host, tally, jitter: true, rest.FirstOrDefault(), firstSeq, TimeSpan.FromSeconds(1))).ToArray();
        var clients = Enumerable.Range(offset, count).Select(index => DrillClient.Create(transport, contexts[index % hosts.Length])).ToList();
        using var stop = new CancellationTokenSource();
        var ramp = TimeSpan.FromSeconds(count / (double)ConnectsPerSecond);
        var receiving = clients.Select((client, index) => Task.Run(async () =>
        {
            await Task.Delay(ramp * index / count, stop.Token);
            await client.RunAsync(stop.Token);
        })).ToList();
        var reporting = ReportStatusAsync(clients, tally, stop.Token);

        // The bench's command, or the end of its input: a bench gone away leaves no client process behind.
        long? lastSeq = null;
        while (await Console.In.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("finish ", StringComparison.Ordinal))
            {
                lastSeq = long.Parse(line["finish ".Length..], CultureInfo.InvariantCulture);
                break;
            }
        }

        var draining = System.Diagnostics.Stopwatch.StartNew();
        if (lastSeq is { } last)
        {
            while (clients.Any(client => client.Last < last) && draining.Elapsed < Drain)
            {
                await Task.Delay(50);
            }
        }

        var drained = draining.Elapsed.TotalSeconds;
        var connected = clients.Count(client => client.Connected);

        await stop.CancelAsync();
        await Task.WhenAll(receiving.Append(reporting).Select(DrillMode.Quietly));
        foreach (var context in contexts)
        {
            context.Dispose();
        }

        if (lastSeq is not { } finished)
        {
            return 0;
        }

        clients.ForEach(client => client.Finish(finished));
        var result = new FleetClientResult(
            connected, tally.Delivered, tally.Lost, tally.Duplicated, tally.GapSignals, tally.Reconnects, tally.Refused, drained);
        Console.WriteLine(ResultPrefix + JsonSerializer.Serialize(result, FleetClientJson.Default.FleetClientResult));
        return 0;
    }

    /// <summary>A status line each second: connections up, events received so far.</summary>
    private static async Task ReportStatusAsync(List<DrillClient> clients, DrillTally tally, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            Console.WriteLine($"{StatusPrefix}{Text(clients.Count(client => client.Connected))} {Text(tally.Delivered)}");
            await Task.Delay(TimeSpan.FromSeconds(1), stop);
        }
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>What one client process counted over its connections, written when it finishes.</summary>
/// <param name="Connected">Its connections up once every one had the last seq (or it gave up waiting).</param>
/// <param name="DrainSeconds">From being told the last seq until every connection had it (or it gave up).</param>
internal sealed record FleetClientResult(
    int Connected, long Delivered, long Lost, long Duplicated, long GapSignals, long Reconnects, long Refused, double DrainSeconds);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(FleetClientResult))]
internal sealed partial class FleetClientJson : JsonSerializerContext;
