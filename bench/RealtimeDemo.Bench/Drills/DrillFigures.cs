namespace RealtimeDemo.Bench.Drills;

/// <summary>The drills' figures as results.md and the report write them.</summary>
internal static class DrillFigures
{
    public const string TargetsNote =
        "Every technique through every drill; resume: from the cut until each client it cut received again.";

    public const string Note =
        "Clients of each technique through nginx, each resuming from its cursor after any drop. Lost: seqs skipped with "
        + "no gap signal (and any not received by the end); cut: clients a cut dropped (or refused); resume: from the cut "
        + "until each of them received again; peak connects/s: the most TCP connections nginx accepted in 100 ms, per second (refused attempts not counted). "
        + "Lost, duplicated and gap signals in bold when not 0, resumed when short of cut.";

    public static readonly string[] Header =
    [
        "drill", "transport", "clients", "delivered", "lost", "duplicated", "gap signals", "reconnects", "refused",
        "cut", "resumed", "resume p50 ms", "resume p99 ms", "resume max ms", "peak connects/s",
    ];

    /// <summary>The drill as named in tables: its kind, and whether the clients' backoff was jittered when it was not.</summary>
    public static string Drill(DrillRun run) => run.Jitter ? run.Kind : $"{run.Kind}, no jitter";

    /// <summary>A run's cells after the drill and the transport; events lost, duplicated or signalled marked bad.</summary>
    public static (string Text, bool Bad)[] Row(DrillRun run) =>
    [
        (Figures.Count(run.Clients), false),
        (Figures.Count(run.Delivered), false),
        (Figures.Count(run.Lost), run.Lost != 0),
        (Figures.Count(run.Duplicated), run.Duplicated != 0),
        (Figures.Count(run.GapSignals), run.GapSignals != 0),
        (Figures.Count(run.Reconnects), false),
        (Figures.Count(run.Refused), false),
        (Figures.Count(run.Cut), false),
        (Figures.Count(run.Resumed), run.Resumed < run.Cut),
        (Ms(run.ResumeMs?.P50), false),
        (Ms(run.ResumeMs?.P99), false),
        (Ms(run.ResumeMs?.Max), false),
        (Figures.Count((long)run.PeakConnectsPerSecond), false),
    ];

    /// <summary>What each drill did and when, one line per drill (the same for all its techniques).</summary>
    public static IEnumerable<(string Drill, string Steps)> Steps(IReadOnlyList<DrillRun> drills) =>
        drills.GroupBy(Drill).Select(group => (group.Key, string.Join("; ", group.First().Actions.Select(action =>
            $"{action.AtSeconds.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)} s {action.What}"))));

    /// <summary>What the report's drills section shows beside results.json's drills: rows in its order, the notes.</summary>
    public static ReportDrills ForReport(IReadOnlyList<DrillRun> drills) => new(
        Header,
        [.. drills.Select(run => ReportCell.Row(Row(run)))],
        Note,
        TargetsNote);

    private static string Ms(double? ms) => ms is { } value ? Figures.Count((long)value) : Figures.Missing;
}

/// <summary>The drills' part of the report's figures.</summary>
/// <param name="Rows">Per run of results.json's <c>drills</c>, in its order: the cells after the drill and the transport.</param>
internal sealed record ReportDrills(string[] Header, IReadOnlyList<IReadOnlyList<ReportCell>> Rows, string Note, string TargetsNote);
