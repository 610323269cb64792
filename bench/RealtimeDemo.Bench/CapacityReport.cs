using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace RealtimeDemo.Bench;

/// <summary>
/// A capacity run's figures as the console, results.md and report.html write them: the rate each transport held, its
/// ratios to the baselines, the steps measured, and the issue's capacity targets judged on the deliveries per second
/// held.
/// </summary>
internal static class CapacityReport
{
    /// <summary>Ours at least this many times the raw baseline of the same technique (deliveries per second held).</summary>
    public const double RawFactor = 0.95;

    /// <summary>Ours at least this many times SignalR over WebSockets (deliveries per second held).</summary>
    public const double SignalRFactor = 1.3;

    private const string SignalR = "signalr-websockets";

    /// <summary>Each of ours that a target compares, and the raw baseline of its technique.</summary>
    private static readonly (string Transport, string Raw)[] Judged = [("sse", "raw-sse"), ("websocket", "raw-websocket")];

    public static readonly string[] Header =
    [
        "transport", "clients", "events/s held", "deliveries/s", "deliveries per CPU-second", "p99 ms", "p99 limit ms", "stopped by",
        "steps",
    ];

    public static readonly string[] StepHeader =
    [
        "transport", "events/s", "deliveries/s", "p50 ms", "p99 ms", "lost", "duplicated", "deliveries per CPU-second", "held",
    ];

    public static string Workload(BenchReport report)
    {
        var s = report.Settings;
        return $"capacity mode: {Figures.Count(s.Clients)} clients per transport, the rate raised from {Figures.Plain(s.Rate)} events/s "
            + $"× {Figures.Plain(CapacityMode.StepFactor)} per step ({Figures.Count(s.Seconds)} s measured after "
            + $"{Figures.Count(s.WarmupSeconds)} s of warm-up each) until p99 passes {Figures.Plain(CapacityMode.P99LimitMs)} ms "
            + $"or an event is lost, short-poll every {Figures.Plain(s.PollIntervalSeconds)} s";
    }

    /// <summary>What the figures are, in a sentence or two (results.md and the report say it).</summary>
    public static string Note(BenchReport report) =>
        $"Per transport at {Figures.Count(report.Settings.Clients)} clients, the highest publish rate held: the rate is raised "
        + $"× {Figures.Plain(CapacityMode.StepFactor)} per step from {Figures.Plain(report.Settings.Rate)} events/s, then tried "
        + "three times between the highest step held and the lowest not held. A step holds when its p99 is "
        + $"within {Figures.Plain(CapacityMode.P99LimitMs)} ms (short polling: plus its interval) and no event is lost or duplicated.";

    public const string TargetsNote = "Capacity held, each compared with the baselines measured in this same run.";

    /// <summary>A capacity run's cells after the transport, as <see cref="Header"/> names them.</summary>
    public static string[] Row(CapacityRun run) =>
    [
        Figures.Count(run.Clients),
        run.Rate is { } rate ? Figures.Plain(rate) : Figures.Missing,
        Figures.Number(run.DeliveriesPerSecond),
        Figures.Number(run.DeliveriesPerCpuSecond),
        Figures.Latency(run.P99Ms),
        Figures.Plain(run.P99LimitMs),
        StoppedBy(run.StoppedBy),
        Figures.Count(run.Steps.Count),
    ];

    /// <summary>Every step of every run: the transport, then the cells <see cref="StepHeader"/> names.</summary>
    public static List<string[]> Steps(IEnumerable<CapacityRun> runs) =>
        runs.SelectMany(run => run.Steps.OrderBy(step => step.Rate).Select(step => new[]
        {
            run.Transport,
            Figures.Plain(step.Rate),
            Figures.Number(step.DeliveriesPerSecond),
            Figures.Latency(step.P50Ms),
            Figures.Latency(step.P99Ms),
            Figures.Count(step.Lost),
            Figures.Count(step.Duplicated),
            Figures.Number(step.DeliveriesPerCpuSecond),
            step.Held ? "yes" : "no",
        })).ToList();

    private static string StoppedBy(string reason) => reason switch
    {
        "p99" => "p99 over the limit",
        "lost" => "events lost",
        "ceiling" => "the ticker's maximum",
        "steps" => "step limit (--steps)",
        "failed" => "a step failed",
        _ => reason,
    };

    /// <summary>
    /// Rows of transport, figure, baseline, ratio (ours ÷ the baseline's; higher is better): each of ours against the raw
    /// baseline of its technique and SignalR over WebSockets, on deliveries per second and per CPU-second held.
    /// </summary>
    public static List<string[]> Ratios(BenchReport report)
    {
        var runs = report.Capacity ?? [];
        var rows = new List<string[]>();
        foreach (var ours in runs.Where(run => !run.Baseline))
        {
            var raw = Judged.FirstOrDefault(pair => pair.Transport == ours.Transport).Raw;
            var baselines = new[] { raw, SignalR }.OfType<string>().Select(name => runs.FirstOrDefault(run => run.Transport == name));
            foreach (var baseline in baselines.OfType<CapacityRun>())
            {
                var perSecond = Targets.Ratio(ours.DeliveriesPerSecond, baseline.DeliveriesPerSecond);
                var perCpuSecond = Targets.Ratio(ours.DeliveriesPerCpuSecond, baseline.DeliveriesPerCpuSecond);
                rows.Add([ours.Transport, "deliveries/s held", baseline.Transport, Figures.Ratio(perSecond)]);
                rows.Add([ours.Transport, "deliveries per CPU-second", baseline.Transport, Figures.Ratio(perCpuSecond)]);
            }
        }

        return rows;
    }

    /// <summary>The issue's capacity targets: SSE and WebSocket at least 0.95 × their raw baseline, 1.3 × SignalR WebSockets.</summary>
    public static List<TargetCheck> Checks(BenchReport report)
    {
        var runs = report.Capacity ?? [];
        CapacityRun? Find(string name) => runs.FirstOrDefault(run => run.Transport == name);
        return Judged
            .SelectMany(pair => new[]
            {
                (pair.Transport, Baseline: pair.Raw, Factor: RawFactor), (pair.Transport, Baseline: SignalR, Factor: SignalRFactor),
            })
            .Select(target => AtLeast(target.Transport, Find(target.Transport), target.Baseline, Find(target.Baseline), target.Factor))
            .ToList();
    }

    private static TargetCheck AtLeast(string transport, CapacityRun? ours, string baselineName, CapacityRun? baseline, double factor)
    {
        var name = $"{transport}: deliveries/s held ≥ {baselineName} × {Figures.Plain(factor)}";
        if (ours is null || baseline is null)
        {
            return new TargetCheck(name, Targets.NotApplicable, $"{(ours is null ? transport : baselineName)} did not run");
        }

        if (baseline.DeliveriesPerSecond is not { } b)
        {
            return new TargetCheck(name, Targets.NotApplicable, $"{baselineName} held no rate");
        }

        var limit = b * factor;
        if (ours.DeliveriesPerSecond is not { } v)
        {
            return new TargetCheck(name, Targets.Missed, $"{transport} held no rate; limit {Figures.Number(limit)}");
        }

        var detail = $"{Figures.Number(v)} vs limit {Figures.Number(limit)} ({baselineName} {Figures.Number(b)} × {Figures.Plain(factor)})"
            + (Targets.Ratio(v, b) is { } ratio ? $"; ratio {Figures.Ratio(ratio)}" : string.Empty);
        return new TargetCheck(name, v >= limit ? Targets.Met : Targets.Missed, detail);
    }

    /// <summary>results.md's capacity section; nothing for a run of another mode.</summary>
    public static void WriteMarkdown(BenchReport report, StringBuilder md)
    {
        if (report.Capacity is not { } runs)
        {
            return;
        }

        md.Append("## Capacity\n\n").Append(Note(report)).Append(" Baselines in italics.\n\n");
        MarkdownWriter.Table(md, Header, runs.Select(run => MarkdownWriter.Italic(run.Baseline, [run.Transport, .. Row(run)])));
        if (Ratios(report) is [_, ..] ratios)
        {
            md.Append("### Capacity ratios\n\nOurs ÷ the baseline's figure, each at the rate it held; higher is better.\n\n");
            MarkdownWriter.Table(md, ["transport", "figure", "compared with", "ratio"], ratios);
        }

        md.Append("### Capacity steps\n\nEvery step measured, by rate.\n\n");
        MarkdownWriter.Table(md, StepHeader, Steps(runs));
    }

    /// <summary>The console's capacity tables; nothing for a run of another mode.</summary>
    public static void WriteConsole(BenchReport report, StringBuilder text)
    {
        if (report.Capacity is not { } runs)
        {
            return;
        }

        text.Append("capacity (highest rate held)\n");
        var rows = runs.Select(run => (string[])[(run.Baseline ? "  " : "* ") + run.Transport, .. Row(run)]).ToList();
        ConsoleTable.Table(text, Header, rows);
        text.Append("* ours; the others are baselines\n\n");
        if (Ratios(report) is [_, ..] ratios)
        {
            text.Append("capacity ratios (ours ÷ the baseline; higher is better)\n");
            ConsoleTable.Table(text, ["transport", "figure", "compared with", "ratio"], ratios);
            text.Append('\n');
        }
    }

    /// <summary>
    /// What report.html adds for a capacity run: its derived figures as JSON and the script that draws the section
    /// (after report.js). Empty for a run of another mode, so those reports stay as they were.
    /// </summary>
    public static string Html(BenchReport report)
    {
        if (report.Capacity is not { } runs)
        {
            return string.Empty;
        }

        var figures = new CapacityFigures(
            Note(report), TargetsNote, CapacityMode.P99LimitMs, CapacityMode.StepFactor, Header, [.. runs.Select(Row)], Ratios(report));
        var json = ReportWriter.ScriptJson(JsonSerializer.Serialize(figures, CapacityJson.Default.CapacityFigures));
        return $"\n<script type=\"application/json\" id=\"capacity-figures\">\n{json}\n</script>\n"
            + $"<script>\n{ReportWriter.Resource("capacity.js")}</script>";
    }
}

/// <summary>What report.html's capacity section shows that the bench derives from results.json.</summary>
/// <param name="Rows">Per run of results.json's <c>capacity</c>, in its order: the cells after the transport.</param>
internal sealed record CapacityFigures(
    string Note,
    string TargetsNote,
    double LimitMs,
    double StepFactor,
    string[] Header,
    IReadOnlyList<string[]> Rows,
    IReadOnlyList<string[]> Ratios);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(CapacityFigures))]
internal sealed partial class CapacityJson : JsonSerializerContext;
