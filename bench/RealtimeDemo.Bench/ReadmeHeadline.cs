namespace RealtimeDemo.Bench;

/// <summary>
/// The README's headline block: the lines between <see cref="Start"/> and <see cref="End"/> are the bench's to write,
/// so the figures a reader sees first are the committed run's, not copied by hand.
/// </summary>
public static class ReadmeHeadline
{
    public const string Start = "<!-- bench:headline:start -->";
    public const string End = "<!-- bench:headline:end -->";

    /// <summary>The markers' lines; <see cref="InvalidOperationException"/> unless there is one of each, in order.</summary>
    public static (int Start, int End) Markers(IReadOnlyList<string> lines, string file)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var starts = Indexes(lines, Start);
        var ends = Indexes(lines, End);
        return starts is [var start] && ends is [var end] && start < end
            ? (start, end)
            : throw new InvalidOperationException(
                $"{file}: expected one line {Start} and, after it, one line {End} (found {starts.Count} and {ends.Count}).");
    }

    /// <summary>The block's lines between the markers: the note naming the run, then the headline table.</summary>
    public static string Block(BenchReport report) =>
        "\n" + MarkdownWriter.HeadlineNote(report) + "\n\n" + MarkdownWriter.Headline(report);

    public static async Task UpdateAsync(string file, BenchReport report, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (report.Runs.Count == 0)
        {
            throw new InvalidOperationException("The headline is a load run's: this run has none (an idle run?).");
        }

        var text = await File.ReadAllTextAsync(file, ct).ConfigureAwait(false);
        var newline = text.Contains("\r\n", StringComparison.Ordinal) ? "\r\n" : "\n";
        var lines = text.Split(newline);
        var (start, end) = Markers(lines, file);
        // A blank line each side, so the table stays a table whatever the markers sit next to.
        var block = (Block(report).TrimEnd('\n') + "\n").Split('\n');
        var updated = string.Join(newline, [.. lines[..(start + 1)], .. block, .. lines[end..]]);
        await File.WriteAllTextAsync(file, updated, ReportWriter.Utf8, ct).ConfigureAwait(false);
    }

    private static List<int> Indexes(IReadOnlyList<string> lines, string marker) =>
        Enumerable.Range(0, lines.Count).Where(i => lines[i].Trim() == marker).ToList();
}
