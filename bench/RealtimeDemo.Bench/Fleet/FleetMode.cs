using RealtimeDemo.Bench.Drills;

namespace RealtimeDemo.Bench.Fleet;

/// <summary>
/// <c>--fleet N</c>, beyond one process: per transport, N connections held by several client processes and spread over
/// several hosts sharing one log in Redis (each process, host or client, under its open-file limit), with each host's
/// memory per connection read while they are idle; then events published through the hosts in turn, every one checked
/// at every connection. First, in the same run, one host on its own in-memory log holds one host's share: the figure
/// the fleet's memory per connection is compared with.
/// </summary>
public static class FleetMode
{
    /// <summary>The transports that hold a connection open, run by default but long polling (a re-poll per event each).</summary>
    public static readonly string[] Transports = ["long-poll", "sse", "websocket"];

    public static readonly string[] DefaultTransports = ["sse", "websocket"];

    /// <summary>
    /// Connections one process (a host, or a client process) is given at most: the machine's limit is 20,000 open files
    /// per process, and each process needs some for itself.
    /// </summary>
    public const int ConnectionsPerProcess = 16_000;

    /// <summary>How long a freshly started host is left before its memory is read, and connections before theirs.</summary>
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(3);

    /// <summary>
    /// The bench in fleet mode: runs every transport, writes results.json, results.md and report.html, and returns the exit
    /// code: 0 when every run completed and delivered every event to every connection once, 1 otherwise, 130 when stopped.
    /// </summary>
    public static async Task<int> RunAndWriteAsync(BenchOptions options, ulong fileLimit, CancellationToken cancellationToken)
    {
        var transports = options.Transports ?? DefaultTransports;
        Console.WriteLine(
            $"RealtimeDemo.Bench: beyond one process, {options.Fleet:N0} connections per transport by {options.ClientProcesses} client processes "
            + $"over {options.Hosts} hosts on one Redis log; {options.Rate} events/s for {options.Seconds} s (open-file limit {fileLimit})");
        var runs = new List<FleetRun>();
        var stopped = false;
        var failed = false;
        foreach (var transport in transports)
        {
            try
            {
                runs.Add(await RunAsync(transport, options, cancellationToken));
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested)
            {
                stopped = true;
                break;
            }
            catch (Exception exception)
            {
                Console.WriteLine($"{transport}: the run failed and is left out: {exception.GetType().Name}: {exception.Message}");
                failed = true;
            }
        }

        var report = new BenchReport(
            DateTimeOffset.UtcNow,
            BenchReport.ThisMachine,
            new BenchSettings(options.Fleet, options.Rate, options.Seconds, WarmupSeconds: 0, options.PollIntervalSeconds, Idle: 0) { Hosts = options.Hosts },
            [],
            [])
        {
            Fleet = runs,
        };
        await BenchOutput.WriteAndShowAsync(report, options.Out);
        if (stopped)
        {
            Console.WriteLine("Stopped before every transport completed.");
            return 130;
        }

        // Every target but the figures of memory: a run that held or delivered less than asked fails the bench.
        return !failed && runs.All(run => run.HeldToEnd == run.Connections && run.PublishFailed == 0 && run.Published > 0
            && run.Lost == 0 && run.Duplicated == 0 && run.GapSignals == 0 && run.Delivered == run.Expected) ? 0 : 1;
    }

    private static async Task<FleetRun> RunAsync(string transport, BenchOptions options, CancellationToken cancellationToken)
    {
        var share = (options.Fleet + options.Hosts - 1) / options.Hosts;
        FleetHost single;
        Console.WriteLine($"{transport,-10} starting one host on an in-memory log for {share:N0} connections");
        await using (var host = await HostFleet.StartDirectAsync(1, sharedLog: false, cancellationToken))
        {
            var alone = await HoldAsync(transport, "single host", host, share, ProcessesFor(share), cancellationToken);
            await using var aloneClients = alone.Clients;
            await aloneClients.FinishAsync(alone.Seq, cancellationToken);

            // Over the connections it held: a share it could not all take would otherwise read as cheaper ones.
            single = new FleetHost(alone.Held, alone.Before[0], alone.After[0]);
        }

        Console.WriteLine($"{transport,-10} single host: {Kb(single.MemoryPerConnectionBytes)} KB per connection over {single.Connections:N0}");
        Console.WriteLine($"{transport,-10} starting {options.Hosts} hosts on one Redis log");
        await using var fleet = await HostFleet.StartDirectAsync(options.Hosts, sharedLog: true, cancellationToken);
        var holding = await HoldAsync(transport, "fleet", fleet, options.Fleet, options.ClientProcesses, cancellationToken);
        await using var clients = holding.Clients;
        var (seq, held, before, after) = (holding.Seq, holding.Held, holding.Before, holding.After);
        var perHost = Enumerable.Range(0, fleet.Hosts)
            .Select(host => new FleetHost(HostShare(options.Fleet, options.Hosts, host), before[host], after[host])).ToList();
        var memory = Math.Round((after.Sum() - before.Sum()) / (double)Math.Max(1, held), 0);
        Console.WriteLine($"{transport,-10} fleet: {Kb(memory)} KB per connection over {held:N0} held ("
            + string.Join(", ", perHost.Select((host, index) => $"host {index + 1}: {Kb(host.MemoryPerConnectionBytes)} KB")) + ")");

        // The load: published through each host in turn, so every host's events reach every other's connections by Redis.
        using var publisher = new DrillPublisher(fleet.HostAddresses, options.Rate);
        using var stopPublishing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var started = DateTime.UtcNow;
        var publishing = publisher.RunAsync(stopPublishing.Token);
        for (var second = 1; second <= options.Seconds; second++)
        {
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            Console.WriteLine($"{transport,-10} {second,3} s  published {publisher.Published:N0} (failed {publisher.Failed:N0})  "
                + $"delivered {clients.Delivered:N0}  connected {clients.Connected:N0}/{options.Fleet:N0}");
        }

        await stopPublishing.CancelAsync();
        await publishing;
        var stopped = DateTime.UtcNow;
        var lastSeq = publisher.LastSeq < 0 ? seq : publisher.LastSeq;
        var result = await clients.FinishAsync(lastSeq, cancellationToken);
        var run = new FleetRun(
            transport, options.Hosts, options.ClientProcesses, options.Fleet, held, result.Connected, memory, perHost, single, options.Rate,
            Math.Round((stopped - started).TotalSeconds, 2), Math.Round(result.DrainSeconds, 2), lastSeq - seq, publisher.Failed,
            result.Delivered, result.Lost, result.Duplicated, result.GapSignals, result.Reconnects, result.Refused);
        Console.WriteLine($"{transport,-10} {run.Published:N0} published ({run.PublishFailed:N0} failed), {run.Delivered:N0} of {run.Expected:N0} "
            + $"delivered; lost {run.Lost}, duplicated {run.Duplicated}, gaps {run.GapSignals}, reconnects {run.Reconnects}, refused {run.Refused}, "
            + $"{run.HeldToEnd:N0} held to the end");
        return run;
    }

    /// <summary>
    /// Every host's memory read, then <paramref name="connections"/> opened on <paramref name="hosts"/> from the log's
    /// head and left a moment, and every host's memory read again. Fewer than asked is not an error here: the run goes
    /// on, and its figures and targets show the shortfall. The caller disposes the client processes.
    /// </summary>
    private static async Task<(FleetClients Clients, long Seq, int Held, long[] Before, long[] After)> HoldAsync(
        string transport, string what, HostFleet hosts, int connections, int processes, CancellationToken cancellationToken)
    {
        await Task.Delay(Settle, cancellationToken);
        var before = Enumerable.Range(0, hosts.Hosts).Select(hosts.HostRssBytes).ToArray();
        var (seq, head) = await DrillMode.HeadAsync(hosts.HostAddresses[0], cancellationToken);
        var clients = FleetClients.Start(transport, hosts.HostAddresses, connections, processes, seq + 1, head);
        try
        {
            // Each client process opens about 1,000 a second; the rest is slack for a loaded machine.
            var timeout = TimeSpan.FromSeconds((connections / (double)processes / 1000) + 60);
            var up = await clients.WaitConnectedAsync(connections, timeout, connected =>
                Console.WriteLine($"{transport,-10} {what}: {connected:N0} of {connections:N0} connected"), cancellationToken);
            if (up < connections)
            {
                Console.WriteLine($"{transport,-10} {what}: only {up:N0} of {connections:N0} connections opened in {timeout.TotalSeconds:0} s");
            }

            await Task.Delay(Settle, cancellationToken);
            var held = clients.Connected;
            return (clients, seq, held, before, Enumerable.Range(0, hosts.Hosts).Select(hosts.HostRssBytes).ToArray());
        }
        catch
        {
            await clients.DisposeAsync();
            throw;
        }
    }

    /// <summary>Client processes for <paramref name="connections"/>: as few as keep each under its open-file limit.</summary>
    public static int ProcessesFor(int connections) => Math.Max(1, (connections + ConnectionsPerProcess - 1) / ConnectionsPerProcess);

    /// <summary>Connection i goes to host i mod hosts: host <paramref name="host"/>'s count of <paramref name="connections"/>.</summary>
    private static int HostShare(int connections, int hosts, int host) => (connections / hosts) + (host < connections % hosts ? 1 : 0);

    private static string Kb(double bytes) => Figures.Number(Figures.Kb(bytes));
}
