using System.Diagnostics;
using System.Text.Json;

namespace RealtimeDemo.Bench.Drills;

/// <summary>
/// <c>--drill kill|restart|storm</c>: a fleet of hosts behind nginx, clients of every technique connected through
/// it, events published steadily through it, and a cut in the middle: a host killed (and started again later), each
/// host in turn stopped gracefully and started again, or nginx restarted under every client at once (a storm, run
/// with the clients' jittered backoff and without). Each technique's clients count what they lost, saw twice, were
/// told of, and how long they took to receive again after the cut.
/// </summary>
public static class DrillMode
{
    public static readonly string[] Kinds = ["kill", "restart", "storm"];

    public static readonly string[] Transports = ["short-poll", "long-poll", "sse", "websocket"];

    /// <summary>How long nginx stays down in a storm: clients that retry meanwhile are refused and back off.</summary>
    private static readonly TimeSpan ProxyOutage = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan Drain = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The bench in drill mode: runs the drills, writes results.json, results.md and report.html, and returns the exit
    /// code: 0 when every drill ran and no technique lost or duplicated an event, 1 when one did, 130 when stopped.
    /// </summary>
    public static async Task<int> RunAndWriteAsync(BenchOptions options, ulong fileLimit, CancellationToken cancellationToken)
    {
        Console.WriteLine(
            $"RealtimeDemo.Bench: drills {string.Join(", ", options.Drills!)}; {options.Hosts} hosts, {options.Clients} clients per technique, "
            + $"{options.Rate} events/s (open-file limit {fileLimit})");
        var runs = new List<DrillRun>();
        var stopped = false;
        var failed = false;
        try
        {
            await RunAsync(options, runs, cancellationToken);
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            stopped = true;
        }
        catch (Exception exception)
        {
            Console.WriteLine($"The drills failed: {exception.GetType().Name}: {exception.Message}");
            failed = true;
        }

        var report = new BenchReport(
            DateTimeOffset.UtcNow,
            BenchReport.ThisMachine,
            new BenchSettings(options.Clients, options.Rate, options.Seconds, WarmupSeconds: 0, options.PollIntervalSeconds, Idle: 0) { Hosts = options.Hosts },
            [],
            [])
        {
            Drills = runs,
        };
        await BenchOutput.WriteAndShowAsync(report, options.Out);
        if (stopped)
        {
            Console.WriteLine("Stopped before every drill completed.");
            return 130;
        }

        return !failed && runs.All(run => run.Lost == 0 && run.Duplicated == 0) ? 0 : 1;
    }

    /// <summary>
    /// Runs every drill asked for on one fleet, adding each one's runs (one per technique) to <paramref name="runs"/>
    /// as it completes, so a drill stopped midway leaves the completed ones.
    /// </summary>
    public static async Task RunAsync(BenchOptions options, List<DrillRun> runs, CancellationToken cancellationToken)
    {
        var transports = options.Transports ?? Transports;
        var plan = options.Drills!.SelectMany(kind => kind == "storm" && !options.NoJitter
            ? new[] { (Kind: kind, Jitter: true), (Kind: kind, Jitter: false) }
            : [(Kind: kind, Jitter: !options.NoJitter)]);
        Console.WriteLine($"Starting {options.Hosts} hosts on one Redis log, behind nginx");
        await using var fleet = await HostFleet.StartAsync(options.Hosts, options.Clients * transports.Count, cancellationToken);
        Console.WriteLine($"nginx at {fleet.ProxyAddress}; every client and the publisher go through it");
        foreach (var (kind, jitter) in plan)
        {
            runs.AddRange(await RunOneAsync(fleet, kind, jitter, transports, options, cancellationToken));
        }
    }

    private static async Task<List<DrillRun>> RunOneAsync(
        HostFleet fleet, string kind, bool jitter, IReadOnlyList<string> transports, BenchOptions options, CancellationToken cancellationToken)
    {
        var name = $"{kind}{(jitter ? string.Empty : " (no jitter)")}";
        var (seq, head) = await HeadAsync(fleet.ProxyAddress, cancellationToken);
        var clock = new DrillClock();
        var groups = transports.Select(transport =>
        {
            var context = new DrillContext(
                fleet.ProxyAddress, new DrillTally(clock), jitter, head, seq + 1, TimeSpan.FromSeconds(options.PollIntervalSeconds));
            return new Group(transport, context, [.. Enumerable.Range(0, options.Clients).Select(_ => DrillClient.Create(transport, context))]);
        }).ToList();
        var clients = groups.SelectMany(group => group.Clients).ToList();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var stopPublishing = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
        var actions = new List<DrillAction>();
        var connected = groups.ToDictionary(group => group.Transport, _ => new List<int>());
        using var publisher = new DrillPublisher([fleet.ProxyAddress], options.Rate);
        var receiving = new List<Task>();
        Task? publishing = null, sampling = null;
        double seconds;
        try
        {
            // Connected at about 2,000 a second, interleaved by technique, rather than all in one instant.
            var ramp = TimeSpan.FromSeconds(clients.Count / 2000.0);
            var interleaved = Enumerable.Range(0, options.Clients).SelectMany(index => groups.Select(group => group.Clients[index])).ToList();
            receiving.AddRange(interleaved.Select((client, index) => Task.Run(async () =>
            {
                await Task.Delay(ramp * index / interleaved.Count, stop.Token);
                await client.RunAsync(stop.Token);
            })));
            await WaitConnectedAsync(name, clients, ramp + TimeSpan.FromSeconds(30), cancellationToken);

            clock.Start();
            publishing = publisher.RunAsync(stopPublishing.Token);
            sampling = SampleAsync(name, clock, groups, connected, publisher, stop.Token);
            var pace = TimeSpan.FromSeconds(options.Seconds);
            void Act(string what, bool cut)
            {
                var now = Stopwatch.GetTimestamp();
                if (cut)
                {
                    clients.ForEach(client => client.MarkCut(now));
                }

                lock (actions)
                {
                    actions.Add(new DrillAction(Math.Round(clock.SecondsAt(now), 2), what, cut));
                }

                Console.WriteLine($"{name,-18} {clock.Seconds,5:0.0} s  {what}");
            }

            await Task.Delay(pace, cancellationToken);
            switch (kind)
            {
                case "kill":
                    Act("host 1 killed (SIGKILL)", cut: true);
                    await fleet.KillHostAsync(0);
                    clients.ForEach(client => client.ArmCut());
                    await Task.Delay(pace, cancellationToken);
                    await fleet.StartHostAsync(0, cancellationToken);
                    Act("host 1 started again", cut: false);
                    await Task.Delay(pace, cancellationToken);
                    break;
                case "restart":
                    for (var host = 0; host < fleet.Hosts; host++)
                    {
                        Act($"host {host + 1} stopped (SIGTERM)", cut: true);
                        await fleet.TerminateHostAsync(host);
                        clients.ForEach(client => client.ArmCut());
                        Act($"host {host + 1} drained and exited", cut: false);
                        await fleet.StartHostAsync(host, cancellationToken);
                        Act($"host {host + 1} started again", cut: false);

                        // As an orchestrator waits for readiness: nginx takes the host back only after its fail_timeout.
                        await Task.Delay(pace > HostFleet.RetryAfter ? pace : HostFleet.RetryAfter + TimeSpan.FromSeconds(1), cancellationToken);
                    }

                    break;
                default:
                    Act("nginx killed (SIGKILL): every connection cut", cut: true);
                    await fleet.RestartProxyAsync(ProxyOutage, cancellationToken);
                    clients.ForEach(client => client.ArmCut());
                    Act("nginx started again", cut: false);
                    await Task.Delay(pace, cancellationToken);
                    break;
            }

            // Publishing stops; every client must then reach the last seq stored.
            await stopPublishing.CancelAsync();
            await Quietly(publishing);
            var drainUntil = Stopwatch.GetTimestamp() + (long)((Drain + TimeSpan.FromSeconds(options.PollIntervalSeconds)).TotalSeconds * Stopwatch.Frequency);
            while (clients.Any(client => client.Last < publisher.LastSeq) && Stopwatch.GetTimestamp() < drainUntil)
            {
                await Task.Delay(50, cancellationToken);
            }

            seconds = clock.Seconds;
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(receiving.Concat([publishing ?? Task.CompletedTask, sampling ?? Task.CompletedTask]).Select(Quietly));
            groups.ForEach(group => group.Context.Dispose());
        }

        clients.ForEach(client => client.Finish(publisher.LastSeq));
        var length = (int)Math.Ceiling(seconds);
        var runs = groups.Select(group =>
        {
            var tally = group.Context.Tally;
            var gauge = connected[group.Transport];
            return new DrillRun(
                kind,
                group.Transport,
                group.Clients.Count,
                jitter,
                fleet.Hosts,
                options.Rate,
                Math.Round(seconds, 2),
                tally.Delivered,
                tally.Lost,
                tally.Duplicated,
                tally.GapSignals,
                tally.Reconnects,
                tally.Refused,
                tally.Cut,
                tally.Resumed,
                tally.ResumeSummary(),
                tally.PeakConnectsPerSecond(),
                actions,
                new DrillTimeline(
                    [.. Enumerable.Range(0, length).Select(second => second < gauge.Count ? gauge[second] : gauge.LastOrDefault())],
                    tally.DeliveriesPerSecond(length),
                    tally.ConnectsPerSecond(length)));
        }).ToList();
        foreach (var run in runs)
        {
            Console.WriteLine(
                $"{name,-18} {run.Transport,-10} {run.Clients,6} clients  {run.Delivered,10:N0} delivered  lost {run.Lost}  duplicated {run.Duplicated}  "
                + $"gaps {run.GapSignals}  reconnects {run.Reconnects}  refused {run.Refused}  cut {run.Cut}, resumed {run.Resumed}"
                + (run.ResumeMs is { } resume ? $" (p50 {resume.P50} ms, p99 {resume.P99} ms, max {resume.Max} ms)" : string.Empty)
                + $"  peak {run.PeakConnectsPerSecond:N0} connects/s");
        }

        return runs;
    }

    private sealed record Group(string Transport, DrillContext Context, List<DrillClient> Clients);

    /// <summary>
    /// The stream's head at <paramref name="address"/> (through nginx, a host just started may take a moment to answer):
    /// where clients start.
    /// </summary>
    internal static async Task<(long Seq, string? Head)> HeadAsync(Uri address, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(5) };
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var stats = JsonDocument.Parse(await http.GetStringAsync("api/stats", cancellationToken));
                return (stats.RootElement.GetProperty("seq").GetInt64(), stats.RootElement.GetProperty("head").GetString());
            }
            catch (HttpRequestException) when (attempt < 50)
            {
                await Task.Delay(100, cancellationToken);
            }
        }
    }

    private static async Task WaitConnectedAsync(string name, List<DrillClient> clients, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        while (clients.Any(client => !client.Connected) && waited.Elapsed < timeout)
        {
            await Task.Delay(100, cancellationToken);
        }

        var connected = clients.Count(client => client.Connected);
        Console.WriteLine($"{name,-18} {connected:N0} of {clients.Count:N0} clients connected in {waited.Elapsed.TotalSeconds:0.0} s; publishing");
    }

    /// <summary>Each whole second: the clients connected per technique (the timeline's gauge), and a progress line.</summary>
    private static async Task SampleAsync(
        string name, DrillClock clock, List<Group> groups, Dictionary<string, List<int>> connected, DrillPublisher publisher,
        CancellationToken stop)
    {
        for (var second = 0; !stop.IsCancellationRequested; second++)
        {
            var wait = TimeSpan.FromSeconds(second - clock.Seconds);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, stop);
            }

            foreach (var group in groups)
            {
                connected[group.Transport].Add(group.Clients.Count(client => client.Connected));
            }

            if (second > 0)
            {
                var techniques = string.Join(" | ", groups.Select(group =>
                    $"{group.Transport} {connected[group.Transport][^1]}/{group.Clients.Count} up {group.Context.Tally.DeliveriesIn(second - 1),6:N0}/s"));
                Console.WriteLine($"{name,-18} {second,3} s  {techniques} | published {publisher.Published:N0}, failed {publisher.Failed:N0}");
            }
        }
    }

    /// <summary>Awaits a client or publisher being stopped: what it throws on its way out changes no figure.</summary>
    internal static async Task Quietly(Task task)
    {
        try
        {
            await task;
        }
        catch (Exception)
        {
            // Stopping.
        }
    }
}
