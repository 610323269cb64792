using System.Text.Json;
using RealtimeDemo.Bench;

// RealtimeDemo.Bench: the four transports and their baselines under one workload, in one run.
BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (Exception exception) when (exception is ArgumentException or FormatException or UriFormatException)
{
    Console.Error.WriteLine(exception.Message);
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
var fileLimit = FileLimit.Raise();
Console.WriteLine($"RealtimeDemo.Bench: {options.Clients} clients, {options.Rate} events/s, {options.Seconds} s per transport{(options.Idle > 0 ? $", idle mode with {options.Idle} connections" : "")} (open-file limit {fileLimit})");

// Ours first, then the baselines; each run gets a freshly started server, so memory and CPU are its own.
var ours = options.Transports.Select(name => (Name: name, Baseline: false));
string[] baselineNames = options.Idle > 0 ? ["raw-websocket", "raw-sse", "signalr-websockets"] : ["raw-websocket", "raw-sse", "signalr-websockets", "signalr-sse", "signalr-longpolling"];
var plan = ours.Concat(options.Baselines ? baselineNames.Select(name => (Name: name, Baseline: true)) : []).ToList();
if (options.Idle > 0)
{
    plan.RemoveAll(run => run.Name == "short-poll");
}

var runs = new List<TransportRun>();
var idleRuns = new List<IdleRun>();
foreach (var (name, baseline) in plan)
{
    await using var server = options.Url is not null && !baseline ? null : await StartServerAsync(baseline, options, cancel.Token);
    var target = new Target(server?.Address ?? options.Url!, baseline, server);
    if (options.Idle > 0)
    {
        idleRuns.Add(await IdleMode.RunAsync(name, target, options.Idle, TimeSpan.FromSeconds(options.Seconds), cancel.Token));
    }
    else
    {
        runs.Add(await LoadRun.RunAsync(name, target, options, cancel.Token));
    }
}

var report = new BenchReport(
    DateTimeOffset.UtcNow,
    $"{Environment.MachineName}: {Environment.ProcessorCount} cores, {Math.Round(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1024.0 / 1024 / 1024)} GiB, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}",
    new BenchSettings(options.Clients, options.Rate, options.Seconds, options.PollIntervalSeconds, options.Idle),
    runs,
    idleRuns);

Directory.CreateDirectory(options.Out);
await File.WriteAllTextAsync(Path.Combine(options.Out, "results.json"), JsonSerializer.Serialize(report, BenchJson.Default.BenchReport), cancel.Token);
await ReportWriter.WriteHtmlAsync(report, Path.Combine(options.Out, "report.html"), cancel.Token);
Console.WriteLine();
Console.WriteLine(ConsoleTable.Render(report));
Console.WriteLine($"Wrote {Path.Combine(options.Out, "results.json")} and {Path.Combine(options.Out, "report.html")}");

// Every event must reach every client exactly once, on every transport: anything else fails the run.
return runs.Any(run => run.Lost > 0 || run.Duplicated > 0) ? 1 : 0;

static Task<ServerProcess> StartServerAsync(bool baseline, BenchOptions options, CancellationToken cancellationToken) =>
    baseline
        ? ServerProcess.StartAsync("RealtimeDemo.Bench.Baselines.dll", new Dictionary<string, string>(), cancellationToken)
        : ServerProcess.StartAsync("RealtimeDemo.dll", new Dictionary<string, string>
        {
            // Published server-side by the demo ticker, which the bench drives through /api/ticker.
            ["Realtime__TickerEventsPerSecond"] = "0",
            ["Realtime__TickerAdjustable"] = "true",
            ["Realtime__Retention"] = Math.Max(10_000, (int)(options.Rate * (options.Seconds + 30))).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Serilog__MinimumLevel__Default"] = "Warning",
        }, cancellationToken);
