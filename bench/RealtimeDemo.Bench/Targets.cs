using System.Globalization;

namespace RealtimeDemo.Bench;

/// <summary>One target of the bench, judged against the baselines of the same run.</summary>
/// <param name="Name">What is promised, e.g. <c>sse: p99 ≤ raw-sse × 1.2</c>.</param>
/// <param name="Status"><see cref="Targets.Met"/>, <see cref="Targets.Missed"/> or <see cref="Targets.NotApplicable"/>.</param>
/// <param name="Detail">The figures behind the verdict, or what was missing.</param>
public sealed record TargetCheck(string Name, string Status, string Detail);

/// <summary>The targets RealtimeDemo sets itself; the console table and the HTML report both show this list.</summary>
public static class Targets
{
    public const string Met = "met";
    public const string Missed = "missed";
    public const string NotApplicable = "n/a";

    /// <summary>Idle memory per connection that websocket and sse must stay within, in KB (1 KB = 1,024 bytes).</summary>
    public const double IdleKbPerConnection = 12;

    private static readonly Measure Cpu = new("CPU per delivery", "server CPU", run => run.ServerCpuSecondsPer1000, Figures.CpuMicroseconds);
    private static readonly Measure P99 = new("p99", "p99", run => run.LatencyMs.P99, Figures.LatencyWithUnit);

    /// <summary>
    /// Every comparison of ours with a baseline, each a target (ours at most the baseline × the factor) and a row of
    /// the console's ratios.
    /// </summary>
    internal static readonly IReadOnlyList<Comparison> Comparisons =
    [
        new("sse", Cpu, "raw-sse", 1.1),
        new("sse", Cpu, "signalr-websockets", 1.0),
        new("sse", P99, "raw-sse", 1.2),
        new("sse", P99, "signalr-websockets", 0.5),
        new("websocket", Cpu, "raw-websocket", 1.1),
        new("websocket", Cpu, "signalr-websockets", 1.0),
        new("websocket", P99, "raw-websocket", 1.2),
        new("websocket", P99, "signalr-websockets", 0.5),
        new("long-poll", P99, "signalr-longpolling", 0.5),

        // What TLS costs, and what HTTP/2's multiplexing does to latency: against cleartext HTTP/1.1, same run.
        new("sse-tls", Cpu, "sse", TlsCpuFactor),
        new("websocket-tls", Cpu, "websocket", TlsCpuFactor),
        new("sse-h2", P99, "sse", Http2P99Factor),
    ];

    /// <summary>TLS may cost at most this many times the cleartext CPU per delivery.</summary>
    public const double TlsCpuFactor = 1.3;

    /// <summary>SSE over HTTP/2, its streams multiplexed, must hold its p99 within this many times HTTP/1.1's.</summary>
    public const double Http2P99Factor = 1.5;

    /// <summary>Each row over TLS and the cleartext HTTP/1.1 row it is measured against.</summary>
    public static readonly IReadOnlyList<(string Transport, string Cleartext)> CleartextPairs =
        [("sse-tls", "sse"), ("websocket-tls", "websocket"), ("sse-h2", "sse")];

    /// <summary>Idle connections per transport that websocket and sse must hold to the end of the window.</summary>
    public const int IdleConnectionsHeld = 20_000;

    /// <summary>The targets a run of this kind can show: a load run's, or an idle run's.</summary>
    public static IReadOnlyList<TargetCheck> Evaluate(BenchReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return report.Drills is not null ? Drills.DrillTargets.Evaluate(report.Drills)
            : report.Capacity is not null ? CapacityReport.Checks(report)
            : report.Fleet is not null ? Fleet.FleetReport.Checks(report.Fleet)
            : report.Settings.Idle > 0 ? IdleTargets(report) : LoadTargets(report);
    }

    private static List<TargetCheck> LoadTargets(BenchReport report)
    {
        var checks = Comparisons.Select(comparison => AtMost(comparison, Find(report, comparison.Transport), Find(report, comparison.Baseline))).ToList();

        var longPoll = Find(report, "long-poll");
        checks.Add(longPoll is null
            ? new TargetCheck("long-poll: nothing lost", NotApplicable, "long-poll did not run")
            : new TargetCheck(
                "long-poll: nothing lost",
                longPoll.Lost == 0 ? Met : Missed,
                $"{Figures.Count(longPoll.Lost)} lost, every event checked from the warm-up's first"));

        const string clean = "every run: nothing lost or duplicated";
        if (report.Runs.Count == 0)
        {
            checks.Add(new TargetCheck(clean, NotApplicable, "no runs"));
        }
        else
        {
            var dirty = report.Runs.Where(run => run.Lost != 0 || run.Duplicated != 0).ToList();
            checks.Add(dirty.Count == 0
                ? new TargetCheck(clean, Met, $"all {report.Runs.Count} runs clean")
                : new TargetCheck(clean, Missed, string.Join("; ", dirty.Select(run =>
                    $"{run.Transport}: {Figures.Count(run.Lost)} lost, {Figures.Count(run.Duplicated)} duplicated"))));
        }

        return checks;
    }

    private static List<TargetCheck> IdleTargets(BenchReport report)
    {
        var checks = new List<TargetCheck>();
        foreach (var name in (string[])["websocket", "sse"])
        {
            var memory = $"{name}: idle memory ≤ {Figures.Plain(IdleKbPerConnection)} KB per connection";
            var held = $"{name}: {Figures.Count(IdleConnectionsHeld)} idle connections held";
            if (report.IdleRuns.FirstOrDefault(run => run.Transport == name) is not { } idle)
            {
                checks.Add(new TargetCheck(memory, NotApplicable, $"{name} did not run"));
                checks.Add(new TargetCheck(held, NotApplicable, $"{name} did not run"));
                continue;
            }

            // Memory is read before the window opens, so connections that end during it do not change that figure.
            var kb = Figures.Kb(idle.MemoryPerConnectionBytes);
            checks.Add(new TargetCheck(
                memory,
                kb <= IdleKbPerConnection ? Met : Missed,
                $"{Figures.Number(kb)} KB per connection over {Figures.Count(idle.Connections)} connections"));
            var heldToTheEnd = idle.Connections - idle.EndedEarly;
            checks.Add(new TargetCheck(
                held,
                heldToTheEnd >= IdleConnectionsHeld ? Met : Missed,
                $"{Figures.Count(heldToTheEnd)} of {Figures.Count(idle.Connections)} opened held to the end"
                    + (idle.Connections < IdleConnectionsHeld ? $" ({Figures.Count(IdleConnectionsHeld)} needed)" : string.Empty)));
        }

        checks.Add(MultiplexedMemory(report));
        return checks;
    }

    /// <summary>An idle SSE stream multiplexed on HTTP/2 must cost the server less memory than an HTTP/1.1 SSE connection.</summary>
    private static TargetCheck MultiplexedMemory(BenchReport report)
    {
        const string name = "sse-h2: idle memory per stream < sse per connection";
        var h2 = report.IdleRuns.FirstOrDefault(run => run.Transport == "sse-h2");
        var sse = report.IdleRuns.FirstOrDefault(run => run.Transport == "sse");
        if (h2 is null || sse is null)
        {
            return new TargetCheck(name, NotApplicable, $"{(h2 is null ? "sse-h2" : "sse")} did not run");
        }

        var (perStream, perConnection) = (Figures.Kb(h2.MemoryPerConnectionBytes), Figures.Kb(sse.MemoryPerConnectionBytes));
        return new TargetCheck(
            name,
            perStream < perConnection ? Met : Missed,
            $"{Figures.Number(perStream)} KB per stream ({Figures.Count(h2.Connections)} streams, "
                + $"{Figures.Count(h2.StreamsPerConnection ?? 0)} per connection) vs {Figures.Number(perConnection)} KB per sse connection"
                + (Ratio(perStream, perConnection) is { } ratio ? $"; ratio {Figures.Ratio(ratio)}" : string.Empty));
    }

    /// <summary>
    /// The TLS and HTTP/2 rows against cleartext HTTP/1.1, for the console, results.md and the report: per row that ran,
    /// its protocol and each figure beside its ratio to the cleartext row's. Empty when none ran.
    /// </summary>
    public static (string[] Header, List<string[]> Rows) Cleartext(BenchReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (report.Settings.Idle > 0)
        {
            var idle = CleartextPairs
                .Select(pair => (Ours: report.IdleRuns.FirstOrDefault(run => run.Transport == pair.Transport), pair.Cleartext,
                    Clear: report.IdleRuns.FirstOrDefault(run => run.Transport == pair.Cleartext)))
                .Where(row => row.Ours is not null)
                .Select(row => new[]
                {
                    row.Ours!.Transport, Figures.Protocol(row.Ours.Transport, row.Ours.StreamsPerConnection), row.Cleartext,
                    Figures.Number(Figures.Kb(row.Ours.MemoryPerConnectionBytes)),
                    Figures.Ratio(Ratio(row.Ours.MemoryPerConnectionBytes, row.Clear?.MemoryPerConnectionBytes)),
                    Figures.Number(row.Ours.HeartbeatBytesPerConnectionPerMinute),
                    Figures.Ratio(Ratio(row.Ours.HeartbeatBytesPerConnectionPerMinute, row.Clear?.HeartbeatBytesPerConnectionPerMinute)),
                })
                .ToList();
            return (["transport", "protocol", "compared with", "KB per connection or stream", "ratio", "heartbeat B/min", "ratio"], idle);
        }

        var load = CleartextPairs
            .Select(pair => (Ours: Find(report, pair.Transport), pair.Cleartext, Clear: Find(report, pair.Cleartext)))
            .Where(row => row.Ours is not null)
            .Select(row => new[]
            {
                row.Ours!.Transport, Figures.Protocol(row.Ours.Transport, row.Ours.StreamsPerConnection), row.Cleartext,
                Figures.Number(Figures.MicrosecondsPerDelivery(row.Ours.ServerCpuSecondsPer1000)),
                Figures.Ratio(Ratio(row.Ours.ServerCpuSecondsPer1000, row.Clear?.ServerCpuSecondsPer1000)),
                Figures.Latency(row.Ours.LatencyMs.P99),
                Figures.Ratio(Ratio(row.Ours.LatencyMs.P99, row.Clear?.LatencyMs.P99)),
                Figures.Number(row.Ours.BytesPerEvent),
                Figures.Ratio(Ratio(row.Ours.BytesPerEvent, row.Clear?.BytesPerEvent)),
            })
            .ToList();
        return (["transport", "protocol", "compared with", "CPU µs per delivery", "ratio", "p99 ms", "ratio", "bytes per event", "ratio"], load);
    }

    /// <summary>The run of this transport (names are unique: ours and the baselines' differ).</summary>
    internal static TransportRun? Find(BenchReport report, string transport) =>
        report.Runs.FirstOrDefault(run => run.Transport == transport);

    /// <summary>value / baseline, or null when either is missing or the baseline is not positive.</summary>
    internal static double? Ratio(double? value, double? baseline) =>
        value is { } v && baseline is { } b && b > 0 && double.IsFinite(v) && double.IsFinite(b) ? v / b : null;

    private static TargetCheck AtMost(Comparison comparison, TransportRun? ours, TransportRun? baseline)
    {
        var (name, measure, factor) = (comparison.Name, comparison.Measure, comparison.Factor);
        if (ours is null)
        {
            return new TargetCheck(name, NotApplicable, $"{comparison.Transport} did not run");
        }

        if (baseline is null)
        {
            return new TargetCheck(name, NotApplicable, $"{comparison.Baseline} did not run");
        }

        if (measure.Of(ours) is not { } v || !double.IsFinite(v))
        {
            return new TargetCheck(name, NotApplicable, $"no {measure.What} figure for {ours.Transport}");
        }

        if (measure.Of(baseline) is not { } b || !double.IsFinite(b))
        {
            return new TargetCheck(name, NotApplicable, $"no {measure.What} figure for {baseline.Transport}");
        }

        var limit = b * factor;
        var ratio = Ratio(v, b);
        var detail = $"{measure.Format(v)} vs limit {measure.Format(limit)} ({baseline.Transport} {measure.Format(b)}"
            + (factor == 1 ? string.Empty : $" × {Figures.Plain(factor)}")
            + ")"
            + (ratio is { } r ? $"; ratio {Figures.Ratio(r)}" : string.Empty);
        return new TargetCheck(name, v <= limit ? Met : Missed, detail);
    }
}

/// <summary>A figure of a run that ours are compared on: its title, what it is, how it is read and written.</summary>
internal sealed record Measure(string Title, string What, Func<TransportRun, double?> Of, Func<double?, string> Format);

/// <summary>Ours (<see cref="Transport"/>) on a <see cref="Measure"/> at most <see cref="Factor"/> × a baseline's.</summary>
internal sealed record Comparison(string Transport, Measure Measure, string Baseline, double Factor)
{
    /// <summary>The target as written, e.g. <c>sse: p99 ≤ raw-sse × 1.2</c> or <c>sse: p99 ≤ ½ × signalr-websockets</c>.</summary>
    public string Name => $"{Transport}: {Measure.Title} ≤ " + Factor switch
    {
        1 => Baseline,
        0.5 => $"½ × {Baseline}",
        _ => $"{Baseline} × {Figures.Plain(Factor)}",
    };
}

/// <summary>How figures are written, the same in the console table and in the HTML report.</summary>
internal static class Figures
{
    public const string Missing = "–";

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string Count(long value) => value.ToString("N0", Invariant);

    /// <summary>What a TLS row runs over, as the tables write it.</summary>
    public static string Protocol(string transport, int? streamsPerConnection) => transport switch
    {
        "sse-tls" or "websocket-tls" => "HTTP/1.1 over TLS, a connection each",
        "sse-h2" => $"HTTP/2 over TLS, {Count(streamsPerConnection ?? 0)} streams per connection",
        _ => "HTTP/1.1",
    };

    /// <summary>Three significant figures or so, thousands separated: 0.0123, 1.23, 12.3, 123, 1,234.</summary>
    public static string Number(double? value)
    {
        if (value is not { } v || !double.IsFinite(v))
        {
            return Missing;
        }

        var abs = Math.Abs(v);
        var format = abs switch
        {
            0 => "0",
            >= 100 => "N0",
            >= 10 => "N1",
            >= 1 => "N2",
            >= 0.1 => "N3",
            _ => "G3",
        };
        return v.ToString(format, Invariant);
    }

    /// <summary>A setting or a factor as written by a person: 1, 0.5, 1.25, 12.</summary>
    public static string Plain(double value) => value.ToString("#,0.###", Invariant);

    /// <summary>Milliseconds with aligned decimals: 0.98, 2.40, 21.5, 502.</summary>
    public static string Latency(double? ms) => ms is { } v && double.IsFinite(v)
        ? v.ToString(Math.Abs(v) < 10 ? "0.00" : Math.Abs(v) < 100 ? "0.0" : "N0", Invariant)
        : Missing;

    public static string LatencyWithUnit(double? ms) => ms is null ? Missing : Latency(ms) + " ms";

    /// <summary>Server CPU seconds per 1,000 deliveries, written as µs per delivery.</summary>
    public static string CpuMicroseconds(double? secondsPer1000) =>
        secondsPer1000 is { } s ? Number(s * 1000) + " µs" : Missing;

    public static double? MicrosecondsPerDelivery(double? secondsPer1000) => secondsPer1000 * 1000;

    public static string Ratio(double? ratio) => ratio is { } r && double.IsFinite(r) ? r.ToString("0.00", Invariant) + "×" : Missing;

    public static string Percent(double? share) => share is { } s && double.IsFinite(s) ? (s * 100).ToString("0.0", Invariant) + " %" : Missing;

    public static double Kb(double bytes) => bytes / 1024;

    public static double? Mb(long? bytes) => bytes / (1024.0 * 1024.0);

    public static double? EmptyShare(TransportRun run) => run.Requests > 0 ? (double)run.EmptyResponses / run.Requests : null;

    public static double? RequestsPerDelivery(TransportRun run) => run.Delivered > 0 ? (double)run.Requests / run.Delivered : null;

    /// <summary>Server CPU seconds per 1,000 deliveries, as the tables write it: 0.0123.</summary>
    public static string CpuSecondsPer1000(double? seconds) => seconds is { } s ? s.ToString("0.0000", Invariant) : Missing;

    /// <summary>
    /// A load run's row in both tables, after the transport: clients, deliveries/s, p50, p95, p99, max, lost, duplicated,
    /// requests, empty, bytes per event, CPU s per 1k deliveries, deliveries per CPU-s, peak RSS MB. Bad marks events
    /// lost or duplicated.
    /// </summary>
    public static (string Text, bool Bad)[] RunRow(TransportRun run) =>
    [
        (Count(run.Clients), false),
        (Number(run.DeliveriesPerSecond), false),
        (Latency(run.LatencyMs.P50), false),
        (Latency(run.LatencyMs.P95), false),
        (Latency(run.LatencyMs.P99), false),
        (Latency(run.LatencyMs.Max), false),
        (Count(run.Lost), run.Lost != 0),
        (Count(run.Duplicated), run.Duplicated != 0),
        (Count(run.Requests), false),
        (Percent(EmptyShare(run)), false),
        (Number(run.BytesPerEvent), false),
        (CpuSecondsPer1000(run.ServerCpuSecondsPer1000), false),
        (Number(run.DeliveriesPerServerCpuSecond), false),
        (Number(Mb(run.ServerPeakRssBytes)), false),
    ];

    /// <summary>
    /// An idle run's row in both tables, after the transport: connections, KB each, heartbeat B/min each, connections
    /// that ended early, RSS before and after in MB.
    /// </summary>
    public static string[] IdleRow(IdleRun run) =>
    [
        Count(run.Connections),
        Number(Kb(run.MemoryPerConnectionBytes)),
        Number(run.HeartbeatBytesPerConnectionPerMinute),
        Count(run.EndedEarly),
        Number(Mb(run.ServerRssBeforeBytes)),
        Number(Mb(run.ServerRssAfterBytes)),
    ];
}
