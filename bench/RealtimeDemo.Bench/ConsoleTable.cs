using System.Text;

namespace RealtimeDemo.Bench;

/// <summary>The bench's figures as fixed-width text, for the terminal.</summary>
public static class ConsoleTable
{
    public static string Render(BenchReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var text = new StringBuilder();
        text.Append("RealtimeDemo bench on ").Append(report.Machine).Append(", ")
            .Append(report.StartedAt.ToString("yyyy-MM-dd HH:mm zzz", System.Globalization.CultureInfo.InvariantCulture)).Append('\n')
            .Append(Workload(report)).Append("\n\n");

        if (report.Runs.Count > 0)
        {
            string[] header =
            [
                "transport", "clients", "deliv/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "lost", "dup",
                "requests", "empty", "B/event", "CPU s/1k", "deliv/CPU-s", "RSS MB",
            ];
            var rows = report.Runs.Select(run => (string[])[Marked(run.Transport, run.Baseline), .. Figures.RunRow(run).Select(cell => cell.Text)]).ToList();
            Table(text, header, rows);
            text.Append("* ours; the others are baselines\n\n");
        }

        CapacityReport.WriteConsole(report, text);
        Fleet.FleetReport.WriteConsole(report, text);

        var ratios = Ratios(report);
        if (ratios.Count > 0)
        {
            text.Append("ratios (ours ÷ the baseline, or the TLS rows ÷ cleartext HTTP/1.1; lower is better)\n");
            Table(text, ["transport", "figure", "compared with", "ratio"], ratios);
            text.Append('\n');
        }

        var (cleartextHeader, cleartextRows) = Targets.Cleartext(report);
        if (cleartextRows.Count > 0)
        {
            text.Append("TLS and HTTP/2 against cleartext HTTP/1.1 (ratio: theirs ÷ cleartext's)\n");
            Table(text, cleartextHeader, cleartextRows);
            text.Append('\n');
        }

        var checks = Targets.Evaluate(report);
        var met = checks.Count(check => check.Status == Targets.Met);
        var judged = checks.Count(check => check.Status != Targets.NotApplicable);
        text.Append("targets: ").Append(met).Append(" of ").Append(judged).Append(" met");
        if (judged != checks.Count)
        {
            text.Append(", ").Append(checks.Count - judged).Append(" n/a");
        }

        text.Append('\n');
        Table(
            text,
            ["", "target", "detail"],
            checks.Select(check => new[] { check.Status, check.Name, check.Detail }).ToList());

        if (report.IdleRuns.Count > 0)
        {
            text.Append("\nidle\n");
            Table(
                text,
                ["transport", "connections", "KB/conn", "heartbeat B/conn/min", "ended early", "RSS before MB", "RSS after MB"],
                report.IdleRuns.Select(run => (string[])[Marked(run.Transport, run.Baseline), .. Figures.IdleRow(run)]).ToList());
        }

        return text.ToString();
    }

    /// <summary>
    /// The run's workload in a line: a capacity run's steps, a run beyond one process (whose settings name hosts, as the
    /// drills' do), or the drills', load or idle settings.
    /// </summary>
    internal static string Workload(BenchReport report) =>
        report.Capacity is not null ? CapacityReport.Workload(report)
        : report.Fleet is not null ? Fleet.FleetReport.Workload(report)
        : Workload(report.Settings);

    internal static string Workload(BenchSettings settings) => settings.Hosts is { } hosts
        ? $"drills: {Figures.Count(hosts)} hosts on one Redis log behind nginx, {Figures.Count(settings.Clients)} clients per technique through it, "
            + $"{Figures.Plain(settings.Rate)} events/s published through it, {Figures.Count(settings.Seconds)} s before the cut and after each step, "
            + $"short-poll every {Figures.Plain(settings.PollIntervalSeconds)} s"
        : settings.Idle > 0
        ? $"idle mode: {Figures.Count(settings.Idle)} connections per transport, nothing published, their traffic measured over {Figures.Count(settings.Seconds)} s (whole heartbeat periods)"
        : $"{Figures.Count(settings.Clients)} clients per transport, {Figures.Plain(settings.Rate)} events/s for "
            + $"{Figures.Count(settings.Seconds)} s after {Figures.Count(settings.WarmupSeconds)} s of warm-up, short-poll every {Figures.Plain(settings.PollIntervalSeconds)} s";

    private static string Marked(string transport, bool baseline) => (baseline ? "  " : "* ") + transport;

    /// <summary>Rows of transport, figure, baseline, ratio: one per comparison of a transport of ours that ran.</summary>
    internal static List<string[]> Ratios(BenchReport report) =>
        Targets.Comparisons
            .Select(comparison => (Comparison: comparison, Ours: Targets.Find(report, comparison.Transport), Baseline: Targets.Find(report, comparison.Baseline)))
            .Where(row => row.Ours is not null)
            .Select(row => new[]
            {
                row.Comparison.Transport,
                row.Comparison.Measure.Title,
                row.Comparison.Baseline,
                Figures.Ratio(Targets.Ratio(row.Comparison.Measure.Of(row.Ours!), row.Baseline is null ? null : row.Comparison.Measure.Of(row.Baseline))),
            })
            .ToList();

    /// <summary>Text left-aligned in the first column, everything else right-aligned; the last column is never padded.</summary>
    internal static void Table(StringBuilder text, string[] header, List<string[]> rows)
    {
        var widths = header.Select((title, column) => Math.Max(title.Length, rows.Count == 0 ? 0 : rows.Max(row => row[column].Length))).ToArray();
        var numeric = header.Select((_, column) => column > 0 && rows.All(row => IsFigure(row[column]))).ToArray();

        void Line(string[] cells)
        {
            var line = new StringBuilder();
            for (var column = 0; column < cells.Length; column++)
            {
                if (column > 0)
                {
                    line.Append("  ");
                }

                var last = column == cells.Length - 1;
                line.Append(numeric[column] ? cells[column].PadLeft(widths[column]) : last ? cells[column] : cells[column].PadRight(widths[column]));
            }

            text.Append(line.ToString().TrimEnd()).Append('\n');
        }

        Line(header);
        text.Append(new string('-', widths.Sum() + (2 * (widths.Length - 1)))).Append('\n');
        foreach (var row in rows)
        {
            Line(row);
        }
    }

    private static bool IsFigure(string cell) =>
        cell.Length > 0 && (cell == Figures.Missing || char.IsDigit(cell[0]) || cell[0] == '-');
}
