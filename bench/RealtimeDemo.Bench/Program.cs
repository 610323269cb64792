using System.Runtime.InteropServices;
using RealtimeDemo.Bench;
using RealtimeDemo.Bench.Drills;
using RealtimeDemo.Bench.Fleet;

// RealtimeDemo.Bench: the four transports (SSE and WebSocket also over TLS and HTTP/2) and their baselines under one
// workload, in one run.
if (args is [FleetClientRole.Flag, .. var clientArguments])
{
    // One of --fleet's client processes, started by the bench itself.
    return await FleetClientRole.RunAsync(clientArguments);
}

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException exception)
{
    Console.Error.WriteLine(exception.Message);
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}

// Files the command line names that cannot be used (no results.json, a README without its markers) exit 2 too.
try
{
    // A README without its markers fails now, not after the run.
    if (options.Readme is not null)
    {
        BenchOutput.CheckReadme(options.Readme);
    }

    if (options.Render is not null)
    {
        // Nothing run: the committed measurement written out again, as the current report and markdown show it.
        var rendered = await BenchOutput.ReadAsync(options.Render, CancellationToken.None);
        if (options.Readme is not null)
        {
            await ReadmeHeadline.UpdateAsync(options.Readme, rendered, CancellationToken.None);
            Console.WriteLine($"Wrote the headline into {options.Readme}");
        }

        await BenchOutput.RenderAsync(rendered, options.Render, CancellationToken.None);
        Console.WriteLine($"Rendered {options.Render}: {BenchOutput.Html}, {BenchOutput.Markdown}");

        return 0;
    }
}
catch (Exception exception) when (exception is InvalidDataException or InvalidOperationException)
{
    Console.Error.WriteLine(exception.Message);
    return 2;
}

// Ctrl+C or SIGTERM stops the bench: the run under way ends, its server is killed, and what completed is written.
// A second signal ends the process at once, and the servers with it.
using var cancel = new CancellationTokenSource();
void Stop(PosixSignalContext signal)
{
    if (cancel.IsCancellationRequested)
    {
        ChildProcess.KillAll();
        return;
    }

    signal.Cancel = true;
    Console.WriteLine($"\n{signal.Signal}: stopping; the run under way is left out, the completed ones are written. A second one ends the bench at once.");
    cancel.Cancel();
}

using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
AppDomain.CurrentDomain.ProcessExit += (_, _) =>
{
    ChildProcess.KillAll();
};
var fileLimit = FileLimit.Raise();
if (options.Drills is not null)
{
    return await DrillMode.RunAndWriteAsync(options, fileLimit, cancel.Token);
}

if (options.Fleet > 0)
{
    return await FleetMode.RunAndWriteAsync(options, fileLimit, cancel.Token);
}

Console.WriteLine(options.Idle > 0
    ? $"RealtimeDemo.Bench: idle mode, {options.Idle} connections per transport, measured over {options.IdleWindow.TotalSeconds} s (open-file limit {fileLimit})"
    : options.Capacity
        ? $"RealtimeDemo.Bench: capacity mode, {options.Clients} clients, from {options.Rate} events/s up, {options.Seconds} s per step (open-file limit {fileLimit})"
        : $"RealtimeDemo.Bench: {options.Clients} clients, {options.Rate} events/s, {options.Seconds} s per transport (open-file limit {fileLimit})");

if (options.Transports is null && options.Url is not null)
{
    var unreachable = BenchOptions.AllTransports.Where(name => !options.Reachable(name)).ToList();
    Console.WriteLine($"{string.Join(", ", unreachable)}: left out, as --url {options.Url} serves {options.Url.Scheme} only");
}

// Ours first, then the baselines; each run gets a freshly started server, so memory and CPU are its own.
var plan = options.PlannedTransports.Select(name => (Name: name, Baseline: false))
    .Concat(options.PlannedBaselines.Select(name => (Name: name, Baseline: true)));

// Every host the bench starts serves HTTPS beside HTTP with one certificate made for this bench, which its TLS clients
// alone trust: the cleartext and TLS rows face the same host.
using var certificate = options.Url is null && options.PlannedTransports.Any(BenchOptions.TlsTransports.Contains) ? BenchCertificate.Create() : null;

var runs = new List<TransportRun>();
var idleRuns = new List<IdleRun>();
var capacityRuns = new List<CapacityRun>();
var failed = new List<string>();
var stopped = false;
foreach (var (name, baseline) in plan)
{
    // With --redis, every host the bench starts gets a stream of its own, removed again after its run.
    var redisPrefix = options.Redis is null || baseline ? null : $"bench-{Guid.NewGuid():N}";
    try
    {
        await using var server = options.Url is not null && !baseline ? null : await StartServerAsync(baseline, options, redisPrefix, certificate, cancel.Token);
        var secureAddress = server is null ? (options.Url!.Scheme == Uri.UriSchemeHttps ? options.Url : null) : server.SecureAddress;
        var target = new Target(server?.Address ?? options.Url!, baseline, server, secureAddress, server is null ? null : certificate);
        if (options.Idle > 0)
        {
            idleRuns.Add(await IdleMode.RunAsync(name, target, options.Idle, options.IdleWindow, options.StreamsPerConnection, cancel.Token));
        }
        else if (options.Capacity)
        {
            capacityRuns.Add(await CapacityMode.RunAsync(name, target, options, cancel.Token));
        }
        else
        {
            runs.Add(await LoadRun.RunAsync(name, target, options, cancel.Token));
        }
    }
    catch (Exception) when (cancel.IsCancellationRequested)
    {
        stopped = true;
        break;
    }
    catch (Exception exception)
    {
        // One run that cannot complete (a resource limit of this machine, say) must not cost the others' figures.
        Console.WriteLine($"{name}: the run failed and is left out: {exception.GetType().Name}: {exception.Message}");
        failed.Add(name);
    }
    finally
    {
        if (redisPrefix is not null)
        {
            await BenchRedis.DeleteKeysAsync(options.Redis!, redisPrefix);
        }
    }
}

var report = new BenchReport(
    DateTimeOffset.UtcNow,
    BenchReport.ThisMachine,
    // Idle mode publishes nothing, has no load clients and no short polls, and measures over its window with no warm-up.
    options.Idle > 0
        ? new BenchSettings(Clients: 0, Rate: 0, (int)options.IdleWindow.TotalSeconds, WarmupSeconds: 0, PollIntervalSeconds: 0, options.Idle)
        : new BenchSettings(options.Clients, options.Rate, options.Seconds, options.WarmupSeconds, options.PollIntervalSeconds, Idle: 0),
    runs,
    idleRuns)
{
    Capacity = options.Capacity ? capacityRuns : null,
};

await BenchOutput.WriteAndShowAsync(report, options.Out);
// Every run must complete, and every event reach every client exactly once: anything else fails the bench.
var clean = !stopped && failed.Count == 0 && !runs.Any(run => run.Lost > 0 || run.Duplicated > 0);

// The README shows only a run that passed: a stopped or failed one leaves its headline as it was.
if (options.Readme is not null && runs.Count > 0 && clean)
{
    await ReadmeHeadline.UpdateAsync(options.Readme, report, CancellationToken.None);
    Console.WriteLine($"Wrote the headline into {options.Readme}");
}
else if (options.Readme is not null)
{
    Console.WriteLine($"Left {options.Readme} as it was: this run did not pass.");
}

if (stopped)
{
    Console.WriteLine("Stopped before every run completed.");
    return 130;
}

return clean ? 0 : 1;

static Task<ServerProcess> StartServerAsync(
    bool baseline, BenchOptions options, string? redisPrefix, BenchCertificate? certificate, CancellationToken cancellationToken) =>
    baseline
        ? ServerProcess.StartAsync("RealtimeDemo.Bench.Baselines.dll", new Dictionary<string, string>(), tls: null, cancellationToken)
        : ServerProcess.StartAsync("RealtimeDemo.dll", HostSettings(options, redisPrefix), certificate, cancellationToken);

static Dictionary<string, string> HostSettings(BenchOptions options, string? redisPrefix)
{
    var settings = new Dictionary<string, string>
    {
        // Published server-side by the demo ticker, which the bench drives through /api/ticker.
        ["Realtime__TickerEventsPerSecond"] = "0",
        ["Realtime__TickerAdjustable"] = "true",
        // Capacity mode's steps may rise to the ticker's maximum.
        ["Realtime__Retention"] = Math.Max(10_000, (int)((options.Capacity ? RealtimeDemo.Ticker.SteadyRate.MaxEventsPerSecond : options.Rate)
            * (options.WarmupSeconds + options.Seconds + 30))).ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Serilog__MinimumLevel__Default"] = "Warning",
        // Limits raised for load: the bench's tens of thousands of connections come from one machine.
        ["Realtime__MaxSseConnections"] = "1000000",
        ["Realtime__MaxWebSocketConnections"] = "1000000",
        ["Realtime__MaxLongPollConnections"] = "1000000",
        ["Realtime__SendTimeout"] = "00:01:00",
        ["Kestrel__Limits__MaxConcurrentConnections"] = "1000000",
    };
    if (options.StreamsPerConnection > BenchOptions.KestrelStreamsPerConnection)
    {
        // More sse-h2 streams per connection than Kestrel allows by default: the client would wait for a free one.
        settings["Kestrel__Limits__Http2__MaxStreamsPerConnection"] = options.StreamsPerConnection.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    if (redisPrefix is not null)
    {
        // A stream of its own for every started host, as the in-memory log starts empty.
        settings["Realtime__Store"] = "Redis";
        settings["ConnectionStrings__Redis"] = options.Redis!;
        settings["Realtime__RedisKeyPrefix"] = redisPrefix;
    }

    return settings;
}
