using System.Text.Json;

namespace RealtimeDemo.Bench;

/// <summary>
/// What a run leaves in its directory: <c>results.json</c> (the measurement), and <c>report.html</c> and
/// <c>results.md</c>, both made from it alone, so a committed run can be rendered again after a change to either.
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

    /// <summary>Writes the run to <paramref name="directory"/>, then shows its tables on the console and where it wrote them.</summary>
    public static async Task WriteAndShowAsync(BenchReport report, string directory)
    {
        await WriteAsync(report, directory, CancellationToken.None).ConfigureAwait(false);
        Console.WriteLine();
        Console.WriteLine(ConsoleTable.Render(report));
        Console.WriteLine($"Wrote {string.Join(", ", new[] { Results, Html, Markdown }.Select(name => Path.Combine(directory, name)))}");
    }

    /// <summary>report.html and results.md from the report; results.json is left as it is.</summary>
    public static async Task RenderAsync(BenchReport report, string directory, CancellationToken ct)
    {
        await ReportWriter.WriteHtmlAsync(report, Path.Combine(directory, Html), ct).ConfigureAwait(false);
        await MarkdownWriter.WriteAsync(report, Path.Combine(directory, Markdown), ct).ConfigureAwait(false);
    }

    /// <summary>The run in <paramref name="directory"/>; <see cref="InvalidDataException"/> if none can be read.</summary>
    public static async Task<BenchReport> ReadAsync(string directory, CancellationToken ct)
    {
        var path = Path.Combine(directory, Results);
        try
        {
            var json = await File.ReadAllTextAsync(path, ct).ConfigureAwait(false);
            return JsonSerializer.Deserialize(json, BenchJson.Default.BenchReport)
                ?? throw new InvalidDataException($"{path}: null.");
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or JsonException)
        {
            throw new InvalidDataException($"{path}: {exception.Message}", exception);
        }
    }

    /// <summary>Throws unless the README can be read and has its headline markers.</summary>
    public static void CheckReadme(string file)
    {
        try
        {
            ReadmeHeadline.Markers(File.ReadAllLines(file), file);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"{file}: {exception.Message}", exception);
        }
    }
}
