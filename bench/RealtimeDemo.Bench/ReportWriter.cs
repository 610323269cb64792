using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace RealtimeDemo.Bench;

/// <summary>
/// <c>report.html</c>: one self-contained page made of the template in <c>Report/</c> (markup, styles, the charts'
/// script and the script that fills the sections) with the run's figures inlined as JSON. Nothing is fetched when it
/// is opened.
/// </summary>
public static partial class ReportWriter
{
    internal static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    public static async Task WriteHtmlAsync(BenchReport report, string path, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        await File.WriteAllTextAsync(path, Render(report), Utf8, ct).ConfigureAwait(false);
    }

    internal static string Render(BenchReport report)
    {
        var date = report.StartedAt.ToString("yyyy-MM-dd HH:mm zzz", CultureInfo.InvariantCulture);
        var (cleartextHeader, cleartextRows) = Targets.Cleartext(report);
        var figures = new ReportFigures(
            date,
            ConsoleTable.Workload(report),
            Targets.IdleKbPerConnection,
            Targets.Evaluate(report),
            report.Runs.Select(run => ReportCell.Row(Figures.RunRow(run))).ToList(),
            report.IdleRuns.Select(run => Figures.IdleRow(run)).ToList(),
            new ReportTable(cleartextHeader, cleartextRows),
            MarkdownWriter.WireNote)
        {
            Drills = report.Drills is { Count: > 0 } drills ? Bench.Drills.DrillFigures.ForReport(drills) : null,
        };
        var parts = new Dictionary<string, string>
        {
            ["title"] = WebUtility.HtmlEncode($"RealtimeDemo bench · {report.Machine} · {date}"),
            ["style"] = Resource("report.css"),
            ["charts"] = Resource("charts.js"),
            ["script"] = Resource("report.js"),
            ["results"] = ScriptJson(JsonSerializer.Serialize(report, BenchJson.Default.BenchReport)),
            ["figures"] = ScriptJson(JsonSerializer.Serialize(figures, ReportJson.Default.ReportFigures)),

            // The drills' section, its styles and script, only in a report that has drills: the others stay as they were.
            ["drills"] = figures.Drills is null ? string.Empty : Placeholder().Replace(Resource("drills.html"), match => match.Groups[1].Value switch
            {
                "drillsStyle" => Resource("drills.css"),
                "drillsScript" => Resource("drills.js"),
                _ => throw new InvalidOperationException($"drills.html: no part named {match.Value}."),
            }),
            ["capacity"] = CapacityReport.Html(report),
            ["fleet"] = Fleet.FleetReport.Html(report),
        };

        // One pass: a figure's text that looks like a placeholder is left as it is.
        return Placeholder().Replace(Resource("report.html"), match => parts.TryGetValue(match.Groups[1].Value, out var part)
            ? part
            : throw new InvalidOperationException($"report.html: no part named {match.Value}."));
    }

    /// <summary>
    /// JSON safe inside a <c>&lt;script type="application/json"&gt;</c> block: a <c>&lt;</c> can only stand in a
    /// string, where <c>\u003c</c> reads the same, so no <c>&lt;/script&gt;</c> or <c>&lt;!--</c> can end the block.
    /// </summary>
    internal static string ScriptJson(string json) => json.Replace("<", "\\u003c", StringComparison.Ordinal);

    internal static string Resource(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Report." + name)
            ?? throw new InvalidOperationException($"The bench was built without its report template's {name}.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var text = reader.ReadToEnd();

        // The styles and the script are inlined as raw text: their closing tag inside them would end them early.
        return !name.EndsWith(".html", StringComparison.Ordinal) && text.Contains("</s", StringComparison.OrdinalIgnoreCase)
            ? throw new InvalidOperationException($"{name} must not contain \"</s\": inlined, it would end its element.")
            : text;
    }

    [GeneratedRegex(@"\{\{(\w+)\}\}")]
    private static partial Regex Placeholder();
}

/// <summary>What the report shows that the bench derives from results.json, written as the console writes it.</summary>
/// <param name="RunRows">Per run of results.json's <c>runs</c>, in its order: the cells after the transport.</param>
/// <param name="IdleRows">Per run of results.json's <c>idleRuns</c>, in its order: the cells after the transport.</param>
/// <param name="Cleartext">The TLS and HTTP/2 rows against cleartext HTTP/1.1 (no rows when none ran).</param>
/// <param name="WireNote">What the bytes counted on the wire include over TLS.</param>
internal sealed record ReportFigures(
    string Date,
    string Workload,
    double IdleKbPerConnection,
    IReadOnlyList<TargetCheck> Targets,
    IReadOnlyList<IReadOnlyList<ReportCell>> RunRows,
    IReadOnlyList<string[]> IdleRows,
    ReportTable Cleartext,
    string WireNote)
{
    /// <summary>The drills' table and notes; absent from a report without drills.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Drills.ReportDrills? Drills { get; init; }
}

internal sealed record ReportCell(string Text, bool Bad)
{
    /// <summary>A table row's cells as the report's script reads them: text, and whether it fell short.</summary>
    public static IReadOnlyList<ReportCell> Row(IEnumerable<(string Text, bool Bad)> cells) => [.. cells.Select(cell => new ReportCell(cell.Text, cell.Bad))];
}

internal sealed record ReportTable(string[] Header, IReadOnlyList<string[]> Rows);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ReportFigures))]
internal sealed partial class ReportJson : JsonSerializerContext;
