using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace RealtimeDemo.Bench.Fleet;

/// <summary>
/// A run beyond one process as the console, results.md and report.html write it: per transport the connections held
/// across the hosts, their memory per connection against one host's, and what every connection received; then each
/// host's memory. The targets judge each transport that ran.
/// </summary>
internal static class FleetReport
{
    /// <summary>Connections per transport the hosts must hold together.</summary>
    public const int ConnectionsTarget = 50_000;

    /// <summary>How far each host's memory per connection may stray from one host's alone, as a share of it.</summary>
    public const double MemoryTolerance = 0.10;

    public const string TargetsNote =
        "Beyond one process: the connections held from the memory's reading to the end, each host's memory per connection "
        + "against one host's measured in this same run, and every event published at every connection once.";

    public const string Note =
        "Per transport, the connections spread over the hosts, which share one event log in Redis, held by several client "
        + "processes, each client connected straight to its host. Each host's RSS was read before its connections connected "
        + "and after; KB per connection is its growth over the connections it was given (the fleet's: all hosts' growth over "
        + "the connections held). One "
        + "host with its log in memory, holding one host's share, was measured in the same run; ratio: the fleet's ÷ its. "
        + "Then events were published through the hosts in turn and checked at every connection: expected is published × "
        + "connections. Events per second are over the publishing; deliveries per second over it and the drain after, until "
        + "every connection had the last event. The publisher skips a tick it is late for rather than sending a burst, so "
        + "fewer events per second than asked (with no publish failed) means the hosts answered publishes later than the rate. "
        + "Lost, duplicated, gap signals and failed publishes in bold when not 0, held when short of connections.";

    public const string HostNote =
        "Each host's RSS before its connections connected and after, and its growth per connection; ratio: ÷ the single "
        + "host's. Ratios outside the target's range in bold.";

    public static readonly string[] Header =
    [
        "transport", "hosts", "client processes", "connections", "held", "held to the end", "KB per connection", "single host connections",
        "single host KB per connection", "ratio", "published", "publishes failed", "events/s published", "delivered", "deliveries/s", "drain s", "expected", "lost", "duplicated", "gap signals",
        "reconnects", "refused",
    ];

    public static readonly string[] HostHeader =
    [
        "transport", "host", "connections", "RSS before MB", "RSS after MB", "KB per connection", "ratio",
    ];

    public static string Workload(BenchReport report)
    {
        var s = report.Settings;

        // The runs know how the connections were spread; a run whose every transport failed has only the settings.
        var first = report.Fleet?.FirstOrDefault();
        var clients = first is null ? string.Empty : $" by {Figures.Count(first.ClientProcesses)} client processes";
        var share = first is null ? string.Empty : $" holding {Figures.Count(first.SingleHost.Connections)}";
        return $"beyond one process: {Figures.Count(s.Clients)} connections per transport{clients} over "
            + $"{Figures.Count(first?.Hosts ?? s.Hosts ?? 0)} hosts on one Redis log, each client straight to its host; "
            + $"{Figures.Plain(s.Rate)} events/s asked, published through the hosts in turn for {Figures.Count(s.Seconds)} s; "
            + $"memory compared with one host on an in-memory log{share}";
    }

    /// <summary>A run's cells after the transport, as <see cref="Header"/> names them; what fell short marked bad.</summary>
    public static (string Text, bool Bad)[] Row(FleetRun run) =>
    [
        (Figures.Count(run.Hosts), false),
        (Figures.Count(run.ClientProcesses), false),
        (Figures.Count(run.Connections), false),
        (Figures.Count(run.Held), run.Held < run.Connections),
        (Figures.Count(run.HeldToEnd), run.HeldToEnd < run.Connections),
        (Figures.Number(Figures.Kb(run.MemoryPerConnectionBytes)), false),
        (Figures.Count(run.SingleHost.Connections), false),
        (Figures.Number(Figures.Kb(run.SingleHost.MemoryPerConnectionBytes)), false),
        (Figures.Ratio(Targets.Ratio(run.MemoryPerConnectionBytes, run.SingleHost.MemoryPerConnectionBytes)), false),
        (Figures.Count(run.Published), run.Published == 0),
        (Figures.Count(run.PublishFailed), run.PublishFailed != 0),
        (Figures.Plain(run.PublishedPerSecond), false),
        (Figures.Count(run.Delivered), false),
        (Figures.Number(run.DeliveriesPerSecond), false),
        (Figures.Plain(run.DrainSeconds), false),
        (Figures.Count(run.Expected), false),
        (Figures.Count(run.Lost), run.Lost != 0),
        (Figures.Count(run.Duplicated), run.Duplicated != 0),
        (Figures.Count(run.GapSignals), run.GapSignals != 0),
        (Figures.Count(run.Reconnects), false),
        (Figures.Count(run.Refused), false),
    ];

    /// <summary>
    /// Every host of every run, then the single host beside them: the cells <see cref="HostHeader"/> names, a ratio
    /// outside the target's range marked bad.
    /// </summary>
    public static List<(string Text, bool Bad)[]> HostRows(IEnumerable<FleetRun> runs) =>
        runs.SelectMany(run => run.PerHost
            .Select((host, index) => (Name: Figures.Count(index + 1), Host: host))
            .Append((Name: "single host", Host: run.SingleHost))
            .Select(row =>
            {
                var ratio = Ratio(row.Host, run.SingleHost);
                return new (string Text, bool Bad)[]
                {
                    (run.Transport, false),
                    (row.Name, false),
                    (Figures.Count(row.Host.Connections), false),
                    (Figures.Number(Figures.Mb(row.Host.RssBeforeBytes)), false),
                    (Figures.Number(Figures.Mb(row.Host.RssAfterBytes)), false),
                    (Figures.Number(Figures.Kb(row.Host.MemoryPerConnectionBytes)), false),
                    (Figures.Ratio(ratio), ratio is { } r && !Within(r)),
                };
            }))
            .ToList();

    /// <summary>Each transport that ran: connections held, memory per connection on every host, every event received.</summary>
    public static List<TargetCheck> Checks(IReadOnlyList<FleetRun> runs) => runs.Count == 0
        ? [new TargetCheck("beyond one process", Targets.NotApplicable, "no transport ran")]
        : [.. runs.SelectMany(run => new[] { Held(run), Memory(run), Events(run) })];

    /// <summary>Held when the memory was read and still at the end, none having had to reconnect in between.</summary>
    private static TargetCheck Held(FleetRun run) => new(
        $"{run.Transport}: {Figures.Count(ConnectionsTarget)} connections held across hosts",
        Math.Min(run.Held, run.HeldToEnd) >= ConnectionsTarget && run.Reconnects == 0 ? Targets.Met : Targets.Missed,
        $"{Figures.Count(run.Held)} of {Figures.Count(run.Connections)} held over {Figures.Count(run.Hosts)} hosts, "
            + $"{Figures.Count(run.HeldToEnd)} to the end, {Figures.Count(run.Reconnects)} reconnects"
            + (run.Connections < ConnectionsTarget ? $" ({Figures.Count(ConnectionsTarget)} needed)" : string.Empty));

    /// <summary>
    /// Every host judged, not the fleet's average: one host that costs more than the others is what the target is there
    /// to catch.
    /// </summary>
    private static TargetCheck Memory(FleetRun run)
    {
        var name = $"{run.Transport}: memory per connection within {Figures.Plain(MemoryTolerance * 100)} % of one host's";
        // The single host's figure decides whether there are ratios at all: every host's, or none.
        var ratios = run.PerHost.Select(host => Ratio(host, run.SingleHost)).OfType<double>().ToList();
        if (ratios.Count == 0)
        {
            return new TargetCheck(
                name, Targets.NotApplicable, run.PerHost.Count == 0 ? "no host's memory was read" : "the single host's memory did not grow");
        }

        var (lowest, highest) = (ratios.Min(), ratios.Max());
        return new TargetCheck(
            name,
            ratios.All(Within) ? Targets.Met : Targets.Missed,
            $"{Figures.Number(Figures.Kb(run.MemoryPerConnectionBytes))} KB per connection over the hosts vs "
                + $"{Figures.Number(Figures.Kb(run.SingleHost.MemoryPerConnectionBytes))} KB on one host; each host {Figures.Ratio(lowest)}–{Figures.Ratio(highest)} of it "
                + $"({Figures.Ratio(1 - MemoryTolerance)}–{Figures.Ratio(1 + MemoryTolerance)} allowed)");
    }

    private static TargetCheck Events(FleetRun run)
    {
        var name = $"{run.Transport}: every event at every connection";
        // Nothing published proves nothing; no host is cut, so a publish that failed is a fault too.
        var clean = run.Published > 0 && run.PublishFailed == 0
            && run.Lost == 0 && run.Duplicated == 0 && run.GapSignals == 0 && run.Delivered == run.Expected;
        return new TargetCheck(
            name,
            clean ? Targets.Met : Targets.Missed,
            $"{Figures.Count(run.Delivered)} of {Figures.Count(run.Expected)} delivered; {Figures.Count(run.Lost)} lost, "
                + $"{Figures.Count(run.Duplicated)} duplicated, {Figures.Count(run.GapSignals)} gaps; "
                + $"{Figures.Count(run.Published)} published, {Figures.Count(run.PublishFailed)} failed");
    }

    /// <summary>A host's memory per connection ÷ the single host's; null when the single host's did not grow.</summary>
    private static double? Ratio(FleetHost host, FleetHost single) =>
        Targets.Ratio(host.MemoryPerConnectionBytes, single.MemoryPerConnectionBytes);

    private static bool Within(double ratio) => Math.Abs(ratio - 1) <= MemoryTolerance;

    /// <summary>results.md's section; nothing for a run of another mode.</summary>
    public static void WriteMarkdown(BenchReport report, StringBuilder md)
    {
        if (report.Fleet is not { } runs)
        {
            return;
        }

        md.Append("## Beyond one process\n\n").Append(Note).Append("\n\n");
        MarkdownWriter.Table(md, Header, runs.Select(run => (string[])[run.Transport, .. MarkdownWriter.Bold(Row(run))]));
        md.Append("### Per host\n\n").Append(HostNote).Append("\n\n");
        MarkdownWriter.Table(md, HostHeader, HostRows(runs).Select(MarkdownWriter.Bold));
    }

    /// <summary>The console's tables; nothing for a run of another mode.</summary>
    public static void WriteConsole(BenchReport report, StringBuilder text)
    {
        if (report.Fleet is not { } runs)
        {
            return;
        }

        static string[] Texts(IEnumerable<(string Text, bool Bad)> cells) => [.. cells.Select(cell => cell.Text)];
        text.Append("beyond one process\n");
        ConsoleTable.Table(text, Header, [.. runs.Select(run => (string[])[run.Transport, .. Texts(Row(run))])]);
        text.Append("\nper host (ratio: ÷ the single host's KB per connection)\n");
        ConsoleTable.Table(text, HostHeader, [.. HostRows(runs).Select(Texts)]);
        text.Append('\n');
    }

    /// <summary>
    /// What report.html adds for a run beyond one process: its derived figures as JSON and the script that draws the
    /// section (after report.js). Empty for a run of another mode, so those reports stay as they were.
    /// </summary>
    public static string Html(BenchReport report)
    {
        if (report.Fleet is not { } runs)
        {
            return string.Empty;
        }

        var figures = new FleetFigures(
            Note,
            HostNote,
            TargetsNote,
            MemoryTolerance,
            Header,
            [.. runs.Select(run => ReportCell.Row(Row(run)))],
            HostHeader,
            [.. HostRows(runs).Select(ReportCell.Row)]);
        var json = ReportWriter.ScriptJson(JsonSerializer.Serialize(figures, FleetJson.Default.FleetFigures));
        return $"\n<script type=\"application/json\" id=\"fleet-figures\">\n{json}\n</script>\n"
            + $"<script>\n{ReportWriter.Resource("fleet.js")}</script>";
    }
}

/// <summary>What report.html's section beyond one process shows that the bench derives from results.json.</summary>
/// <param name="Rows">Per run of results.json's <c>fleet</c>, in its order: the cells after the transport.</param>
/// <param name="HostRows">Every host of every run, then its single host: every cell, the transport first.</param>
internal sealed record FleetFigures(
    string Note,
    string HostNote,
    string TargetsNote,
    double MemoryTolerance,
    string[] Header,
    IReadOnlyList<IReadOnlyList<ReportCell>> Rows,
    string[] HostHeader,
    IReadOnlyList<IReadOnlyList<ReportCell>> HostRows);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(FleetFigures))]
internal sealed partial class FleetJson : JsonSerializerContext;
