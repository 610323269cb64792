using System.Text.Json;

namespace RealtimeDemo.Bench;

/// <summary>
/// What a run leaves in its directory: <c>results.json</c> (the measurement), and <c>report.html</c> and
/// <c>results.md</c>, both made from it.
/// </summary>
internal static class BenchOutput
{
    public const string Results = "results.json";
    public const string Html = "report.html";
    public const string Markdown = "results.md";

    public static async Task WriteAsync(BenchReport report, string directory, CancellationToken ct)
    {
        Directory.CreateDirectory(directory);
        var json = JsonSerializer.Serialize(report, BenchJson.Default.BenchReport);
        await File.WriteAllTextAsync(Path.Combine(directory, Results), json, ct).ConfigureAwait(false);
        await RenderAsync(report, directory, ct).ConfigureAwait(false);
    }

    /// <summary>report.html and results.md from the report; results.json is left as it is.</summary>
    public static async Task RenderAsync(BenchReport report, string directory, CancellationToken ct)
    {
        await ReportWriter.WriteHtmlAsync(report, Path.Combine(directory, Html), ct).ConfigureAwait(false);
        await MarkdownWriter.WriteAsync(report, Path.Combine(directory, Markdown), ct).ConfigureAwait(false);
    }
}
