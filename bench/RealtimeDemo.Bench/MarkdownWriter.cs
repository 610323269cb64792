using System.Globalization;
using System.Text;

namespace RealtimeDemo.Bench;

/// <summary>
/// <c>results.md</c>: the run's figures as markdown tables (machine, date, settings, every run, ratios, targets, idle
/// figures), and the headline table the README shows (<see cref="Headline"/>).
/// </summary>
public static class MarkdownWriter
{
    public static async Task WriteAsync(BenchReport report, string path, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentException.ThrowIfNullOrEmpty(path);
        await File.WriteAllTextAsync(path, Render(report), ReportWriter.Utf8, ct).ConfigureAwait(false);
    }

    internal static string Render(BenchReport report)
    {
        var checks = Targets.Evaluate(report);
        var met = checks.Count(check => check.Status == Targets.Met);
        var missed = checks.Count(check => check.Status == Targets.Missed);
        var md = new StringBuilder();
        md.Append("# RealtimeDemo bench\n\n")
            .Append("- Machine: ").Append(Cell(report.Machine)).Append('\n')
            .Append("- Date: ").Append(Date(report)).Append('\n')
            .Append("- Mode: ").Append(report.Drills is not null ? "drills" : report.Capacity is not null ? "capacity"
                : report.Fleet is not null ? "fleet" : report.Settings.Idle > 0 ? "idle" : "load").Append('\n')
            .Append("- Settings: ").Append(ConsoleTable.Workload(report)).Append('\n')
            .Append("- Targets: ").Append(met).Append(" of ").Append(met + missed).Append(" met")
            .Append(checks.Count > met + missed ? $", {checks.Count - met - missed} n/a" : string.Empty).Append("\n\n");

        if (report.Runs.Count > 0)
        {
            md.Append("## Headline\n\n").Append(Headline(report))
                .Append("## All figures\n\nBaselines in italics. Lost and duplicated events in bold.\n\n");
            Table(
                md,
                [
                    "transport", "clients", "deliveries/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "lost", "duplicated",
                    "requests", "empty responses", "bytes per event", "server CPU µs per delivery",
                    "server CPU s per 1,000 deliveries", "deliveries per CPU-second", "peak RSS MB",
                ],
                report.Runs.Select(run => Italic(run.Baseline, [run.Transport, .. RunCells(run)])));
        }

        if (ConsoleTable.Ratios(report) is [_, ..] ratios)
        {
            md.Append("## Ratios\n\nOurs ÷ the baseline's figure, or a TLS row's ÷ the same transport's in cleartext HTTP/1.1; ")
                .Append("lower is better.\n\n");
            Table(md, ["transport", "figure", "compared with", "ratio"], ratios);
        }

        if (Targets.Cleartext(report) is ({ } header, [_, ..] cleartext))
        {
            md.Append("## TLS and HTTP/2 against cleartext HTTP/1.1\n\n")
                .Append(report.Settings.Idle > 0
                    ? "Memory per idle connection (per stream for HTTP/2) and keep-alive traffic; "
                    : "What TLS costs per delivery, and what multiplexing streams on HTTP/2 connections does; ")
                .Append("ratio: the row's figure ÷ the cleartext row's. ").Append(WireNote).Append("\n\n");
            Table(md, header, cleartext);
        }

        CapacityReport.WriteMarkdown(report, md);
        Fleet.FleetReport.WriteMarkdown(report, md);
        md.Append("## Targets\n\n")
            .Append(report.Drills is not null ? Drills.DrillFigures.TargetsNote + "\n\n"
                : report.Capacity is not null ? CapacityReport.TargetsNote + "\n\n"
                : report.Fleet is not null ? Fleet.FleetReport.TargetsNote + "\n\n"
                : report.Settings.Idle > 0
                ? "Limits of our own, for SSE and WebSocket: not compared with the baselines; SSE over HTTP/2 against HTTP/1.1.\n\n"
                : "Each compared with the baselines measured in this same run; the TLS rows with cleartext HTTP/1.1.\n\n");
        var rows = checks.Select(check => new[] { Mark(check.Status), check.Name, check.Detail });
        Table(md, ["", "target", "figures"], rows, figures: false);

        if (report.IdleRuns.Count > 0)
        {
            md.Append("## Idle connections\n\nBaselines in italics.\n\n");
            Table(
                md,
                [
                    "transport", "connections", "memory per connection (KB)", "heartbeat bytes per connection per minute",
                    "ended early", "RSS before (MB)", "RSS after (MB)",
                ],
                report.IdleRuns.Select(run => Italic(run.Baseline, [run.Transport, .. Figures.IdleRow(run)])));
            if (report.IdleRuns.FirstOrDefault(run => run.StreamsPerConnection is not null) is { } multiplexed)
            {
                md.Append(multiplexed.Transport).Append("'s connections are HTTP/2 streams, ")
                    .Append(Figures.Count(multiplexed.StreamsPerConnection!.Value))
                    .Append(" on each TCP connection: its figures are per stream.\n\n");
            }
        }

        if (report.Drills is { Count: > 0 } drills)
        {
            md.Append("## Drills\n\n").Append(Drills.DrillFigures.Note).Append("\n\n");
            Table(
                md,
                Drills.DrillFigures.Header,
                drills.Select(run => (string[])[Drills.DrillFigures.Drill(run), run.Transport, .. Bold(Drills.DrillFigures.Row(run))]));
            Table(md, ["drill", "what it did (seconds from the first event published)"], Drills.DrillFigures.Steps(drills)
                .Select(step => new[] { step.Drill, step.Steps }), figures: false);
        }

        return md.Append("Written by RealtimeDemo.Bench from results.json; report.html beside it draws the charts. ")
            .Append("1 KB = 1,024 bytes.\n").ToString();
    }

    /// <summary>
    /// The load run in one table, ours first and the baselines in italics: technique, p50 / p99 latency, server CPU
    /// per delivery, bytes per event, requests while measured. results.md and the README both show it.
    /// </summary>
    public static string Headline(BenchReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var md = new StringBuilder();
        Table(
            md,
            ["technique", "p50 / p99 latency", "server CPU per delivery", "bytes per event", "requests while measured"],
            report.Runs.OrderBy(run => run.Baseline).Select(run => Italic(run.Baseline,
            [
                Technique(run, report.Settings.PollIntervalSeconds),
                $"{Figures.Latency(run.LatencyMs.P50)} / {Figures.LatencyWithUnit(run.LatencyMs.P99)}",
                Figures.CpuMicroseconds(run.ServerCpuSecondsPer1000),
                Figures.Number(run.BytesPerEvent),
                Figures.Count(run.Requests),
            ])));
        return md.ToString();
    }

    /// <summary>A run's name as a reader of the README knows it; baselines say what they are.</summary>
    private static string Technique(TransportRun run, double pollIntervalSeconds) => run.Transport switch
    {
        "short-poll" => $"short polling (every {Figures.Plain(pollIntervalSeconds)} s)",
        "long-poll" => "long polling",
        "sse" => "Server-Sent Events",
        "websocket" => "WebSocket",
        "sse-tls" => "Server-Sent Events over TLS",
        "websocket-tls" => "WebSocket over TLS",
        "sse-h2" => $"Server-Sent Events over HTTP/2 (TLS, {Figures.Count(run.StreamsPerConnection ?? 0)} streams per connection)",
        "raw-sse" => "raw-Kestrel SSE (baseline)",
        "raw-websocket" => "raw-Kestrel WebSocket (baseline)",
        "signalr-websockets" => "SignalR WebSockets (baseline)",
        "signalr-sse" => "SignalR SSE (baseline)",
        "signalr-longpolling" => "SignalR long polling (baseline)",
        _ => run.Transport,
    };

    /// <summary>What the bytes per event count over TLS.</summary>
    internal const string WireNote =
        "Bytes are counted on the TCP connection, beneath TLS: record headers and tags are included; the handshakes, "
        + "made before the measured window, are not.";

    /// <summary>The run the headline comes from, in one line: its load, machine and date.</summary>
    public static string HeadlineNote(BenchReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var s = report.Settings;
        return $"Measured by the bench: {Figures.Count(s.Clients)} clients per transport, {Figures.Plain(s.Rate)} events/s, "
            + $"on {Cell(report.Machine)}, {Date(report)}.";
    }

    private static string Date(BenchReport report) =>
        report.StartedAt.ToString("yyyy-MM-dd HH:mm zzz", CultureInfo.InvariantCulture);

    /// <summary>A run's cells after the transport; events lost or duplicated in bold.</summary>
    private static string[] RunCells(TransportRun run)
    {
        var cells = Figures.RunRow(run).Select(cell => cell.Bad ? $"**{cell.Text}**" : cell.Text).ToList();
        var empty = Figures.Count(run.EmptyResponses);
        cells[9] = run.Requests > 0 ? $"{empty} ({cells[9]})" : empty;
        cells.Insert(11, Figures.Number(Figures.MicrosecondsPerDelivery(run.ServerCpuSecondsPer1000)));
        return [.. cells];
    }

    private static string Mark(string status) =>
        status == Targets.Met ? "✓ met" : status == Targets.Missed ? "✗ missed" : "– " + status;

    /// <summary>The cells' text, each that fell short in bold.</summary>
    internal static string[] Bold(IEnumerable<(string Text, bool Bad)> cells) => [.. cells.Select(cell => cell.Bad ? $"**{cell.Text}**" : cell.Text)];

    internal static string[] Italic(bool baseline, string[] cells) =>
        baseline ? [.. cells.Select(cell => cell.Length == 0 ? cell : $"*{cell}*")] : cells;

    /// <summary>A markdown table: the first column left-aligned, columns of figures right-aligned unless told not.</summary>
    internal static void Table(StringBuilder md, string[] header, IEnumerable<string[]> rows, bool figures = true)
    {
        var body = rows.ToList();
        var numeric = header
            .Select((_, column) => figures && column > 0 && body.Count > 0 && body.All(row => IsFigure(row[column])))
            .ToArray();
        md.Append("| ").AppendJoin(" | ", header.Select(Cell)).Append(" |\n|")
            .AppendJoin("|", numeric.Select(right => right ? " ---: " : " --- ")).Append("|\n");
        foreach (var row in body)
        {
            md.Append("| ").AppendJoin(" | ", row.Select(Cell)).Append(" |\n");
        }

        md.Append('\n');
    }

    private static bool IsFigure(string cell)
    {
        var text = cell.Trim('*');
        return text.Length > 0 && (text == Figures.Missing || char.IsDigit(text[0]) || text[0] == '-');
    }

    /// <summary>Text that cannot break a table row or be read as HTML: no pipe, line break or tag of its own.</summary>
    private static string Cell(string text) =>
        text.Replace("|", "\\|", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal)
            .ReplaceLineEndings(" ");
}
