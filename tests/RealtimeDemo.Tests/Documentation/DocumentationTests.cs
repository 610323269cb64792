using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

namespace RealtimeDemo.Tests.Documentation;

/// <summary>
/// The documentation stays true to the repository: every relative link in the README and in <c>docs/</c> leads to a
/// file (and heading) that exists, every test <c>docs/protocol.md</c> cites exists, and the README stays short enough
/// to be read as the front door.
/// </summary>
/// <remarks>
/// The protocol cites a test as its method name in backticks in a paragraph that starts with <c>Tested by:</c>
/// (<c>Tested by: `LastEventIdWinsOverAfter`, `EventIdsEqualTheJsonId`</c>), or inline as <c>`Name` (test)</c>.
/// Method names, not classes: a name may be a test in several classes, as a shared contract is run per transport.
/// </remarks>
public sealed partial class DocumentationTests
{
    private const int ReadmeMaxLines = 200;
    private const int ReadmeMaxWords = 2_200;

    private const BindingFlags AllDeclared = BindingFlags.DeclaredOnly
        | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static;

    private static readonly string Root = FindRoot();

    /// <summary>The README and every page in <c>docs/</c>, relative to the repository's root.</summary>
    public static TheoryData<string> MarkdownFiles => new(
        Directory.EnumerateFiles(Path.Combine(Root, "docs"), "*.md")
            .Select(path => Path.GetRelativePath(Root, path).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .Prepend("README.md"));

    [Theory]
    [MemberData(nameof(MarkdownFiles))]
    public void EveryRelativeLinkResolves(string file)
    {
        var path = Path.Combine(Root, file);
        var broken = LinksOf(File.ReadAllText(path))
            .Where(IsRelative)
            .Select(link => (Link: link, Problem: Resolve(path, link)))
            .Where(checkedLink => checkedLink.Problem is not null)
            .Select(checkedLink => $"  ({checkedLink.Link}): {checkedLink.Problem}")
            .ToList();

        Assert.True(broken.Count == 0, $"{file} has {broken.Count} broken link(s):\n{string.Join('\n', broken)}");
    }

    [Fact]
    public void EveryTestTheProtocolCitesExists()
    {
        var cited = CitedTests(File.ReadAllText(Path.Combine(Root, "docs", "protocol.md")));
        var tests = typeof(DocumentationTests).Assembly.GetTypes()
            .SelectMany(type => type.GetMethods(AllDeclared))
            .Where(method => method.IsDefined(typeof(FactAttribute), inherit: true)
                || method.IsDefined(typeof(TheoryAttribute), inherit: true))
            .Select(method => method.Name)
            .ToHashSet(StringComparer.Ordinal);

        // A protocol without citations would pass vacuously: a changed convention must change this test too.
        Assert.NotEmpty(cited);
        var missing = cited.Where(name => !tests.Contains(name)).Order(StringComparer.Ordinal).ToList();
        Assert.True(missing.Count == 0,
            $"docs/protocol.md cites tests that do not exist: {string.Join(", ", missing)}");
    }

    [Fact]
    public void ReadmeIsAtMostTwoHundredLinesAndTwoThousandTwoHundredWords()
    {
        var text = File.ReadAllText(Path.Combine(Root, "README.md"));
        var lines = text.Split('\n').Length - (text.EndsWith('\n') ? 1 : 0);

        // A word is a run of non-space characters with a letter or digit in it: table bars and list marks are not.
        var words = WhitespaceRun().Split(text).Count(token => token.Any(char.IsLetterOrDigit));

        Assert.True(lines <= ReadmeMaxLines && words <= ReadmeMaxWords,
            $"README.md has {lines} lines and {words} words; "
            + $"at most {ReadmeMaxLines} lines and {ReadmeMaxWords} words are allowed.");
    }

    /// <summary>The folder holding <c>RealtimeDemo.sln</c>, found upwards from the test binaries.</summary>
    private static string FindRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "RealtimeDemo.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"No folder above {AppContext.BaseDirectory} holds RealtimeDemo.sln.");
    }

    /// <summary>
    /// The targets of the inline links, images, reference definitions and HTML <c>href</c>/<c>src</c> attributes of
    /// <paramref name="markdown"/>, outside code blocks and code spans (where brackets are only text).
    /// </summary>
    private static IEnumerable<string> LinksOf(string markdown)
    {
        var prose = CodeSpan().Replace(string.Join('\n', OutsideCodeBlocks(markdown)), "");
        foreach (Match match in InlineLink().Matches(prose))
        {
            yield return match.Groups["target"].Value;
        }

        foreach (Match match in ReferenceDefinition().Matches(prose))
        {
            yield return match.Groups["target"].Value;
        }

        foreach (Match match in HtmlLink().Matches(prose))
        {
            yield return match.Groups["target"].Value;
        }
    }

    private static bool IsRelative(string target) =>
        !target.StartsWith("http://", StringComparison.OrdinalIgnoreCase)
        && !target.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
        && !target.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Why <paramref name="target"/>, linked from <paramref name="from"/>, does not resolve; null when it does.
    /// </summary>
    private static string? Resolve(string from, string target)
    {
        var hash = target.IndexOf('#');
        var (pathPart, anchor) = hash < 0
            ? (target, null)
            : (target[..hash], Uri.UnescapeDataString(target[(hash + 1)..]));
        pathPart = Uri.UnescapeDataString(pathPart.Split('?')[0]);

        // Empty: an anchor in the same file. A leading slash: from the repository's root, as GitHub reads it.
        var resolved = pathPart.Length == 0
            ? from
            : Path.GetFullPath(pathPart.StartsWith('/')
                ? Path.Combine(Root, pathPart.TrimStart('/'))
                : Path.Combine(Path.GetDirectoryName(from)!, pathPart));
        if (resolved != Root && !resolved.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            return "leads outside the repository";
        }

        if (Directory.Exists(resolved))
        {
            return anchor is null ? null : "an anchor into a folder";
        }

        if (!File.Exists(resolved))
        {
            return $"no file {Path.GetRelativePath(Root, resolved).Replace('\\', '/')}";
        }

        // Anchors into other kinds of file (a line of source, say) are not headings: only markdown's are checked.
        if (anchor is null || !resolved.EndsWith(".md", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return AnchorsOf(File.ReadAllText(resolved)).Contains(anchor)
            ? null
            : $"no heading with the anchor #{anchor} in {Path.GetRelativePath(Root, resolved).Replace('\\', '/')}";
    }

    /// <summary>
    /// The anchors GitHub gives the headings of <paramref name="markdown"/>, and its explicit HTML anchors.
    /// </summary>
    private static HashSet<string> AnchorsOf(string markdown)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var line in OutsideCodeBlocks(markdown))
        {
            if (Heading().Match(line) is { Success: true } heading)
            {
                // A repeated heading gets -1, -2 … after its slug.
                var slug = Slug(heading.Groups["text"].Value);
                anchors.Add(seen.TryGetValue(slug, out var count) ? $"{slug}-{count}" : slug);
                seen[slug] = count + 1;
            }

            foreach (Match named in HtmlAnchor().Matches(line))
            {
                anchors.Add(named.Groups["name"].Value);
            }
        }

        return anchors;
    }

    /// <summary>
    /// GitHub's anchor for a heading: its text (links reduced to their text, tags dropped) in lower case, with every
    /// character but letters, digits, spaces, hyphens and underscores removed, and spaces turned into hyphens.
    /// </summary>
    private static string Slug(string heading)
    {
        var text = HtmlTag().Replace(InlineLink().Replace(heading, match => match.Groups["text"].Value), "");
        var slug = new StringBuilder(text.Length);
        foreach (var character in text.Trim().ToLowerInvariant())
        {
            if (character == ' ')
            {
                slug.Append('-');
            }
            else if (character is '-' or '_' || char.IsLetterOrDigit(character)
                || CharUnicodeInfo.GetUnicodeCategory(character)
                    is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark)
            {
                slug.Append(character);
            }
        }

        return slug.ToString();
    }

    /// <summary>The test method names <paramref name="markdown"/> cites, by either form of the convention.</summary>
    private static HashSet<string> CitedTests(string markdown)
    {
        var cited = new HashSet<string>(StringComparer.Ordinal);
        var lines = OutsideCodeBlocks(markdown).ToList();
        for (var i = 0; i < lines.Count; i++)
        {
            if (TestedByLine().Match(lines[i]) is { Success: true } testedBy)
            {
                // The citation is the rest of its paragraph: a wrapped line is still read.
                var citation = testedBy.Groups["names"].Value;
                while (i + 1 < lines.Count && !string.IsNullOrWhiteSpace(lines[i + 1]))
                {
                    citation += " " + lines[++i];
                }

                var names = CodeSpan().Matches(citation).Select(span => span.Groups["code"].Value).ToList();
                Assert.True(names.Count > 0, $"A 'Tested by:' line names no test in backticks: {citation}");
                Assert.All(names, name =>
                    Assert.True(Identifier().IsMatch(name), $"'{name}' after 'Tested by:' is not a method name"));
                cited.UnionWith(names);
            }

            cited.UnionWith(InlineCitation().Matches(lines[i]).Select(match => match.Groups["name"].Value));
        }

        return cited;
    }

    /// <summary>The lines of <paramref name="markdown"/> outside fenced code blocks.</summary>
    private static IEnumerable<string> OutsideCodeBlocks(string markdown)
    {
        string? fence = null;
        foreach (var line in markdown.Split('\n'))
        {
            var trimmed = line.TrimStart();
            var opens = trimmed.StartsWith("```", StringComparison.Ordinal)
                || trimmed.StartsWith("~~~", StringComparison.Ordinal);
            if (fence is null && opens)
            {
                fence = trimmed[..3];
                continue;
            }

            if (fence is not null)
            {
                if (trimmed.StartsWith(fence, StringComparison.Ordinal))
                {
                    fence = null;
                }

                continue;
            }

            yield return line;
        }
    }

    [GeneratedRegex(@"!?\[(?<text>[^\]]*)\]\(\s*<?(?<target>[^)\s>]*)>?(?:\s+""[^""]*"")?\s*\)")]
    private static partial Regex InlineLink();

    [GeneratedRegex(@"^ {0,3}\[[^\]]+\]:\s*<?(?<target>[^\s>]+)>?", RegexOptions.Multiline)]
    private static partial Regex ReferenceDefinition();

    [GeneratedRegex(@"<(?:a|img)\s[^>]*?(?:href|src)\s*=\s*""(?<target>[^""]*)""", RegexOptions.IgnoreCase)]
    private static partial Regex HtmlLink();

    [GeneratedRegex(@"<a\s[^>]*?(?:id|name)\s*=\s*""(?<name>[^""]*)""", RegexOptions.IgnoreCase)]
    private static partial Regex HtmlAnchor();

    [GeneratedRegex(@"<[^>]+>")]
    private static partial Regex HtmlTag();

    [GeneratedRegex(@"^ {0,3}#{1,6}\s+(?<text>.*?)(?:\s+#+)?\s*$")]
    private static partial Regex Heading();

    [GeneratedRegex(@"(?<ticks>`+)(?<code>.+?)\k<ticks>")]
    private static partial Regex CodeSpan();

    [GeneratedRegex(@"^\s*(?:[-*]\s+)?(?:\*\*|_)?Tested by:(?:\*\*|_)?(?<names>.*)$")]
    private static partial Regex TestedByLine();

    [GeneratedRegex(@"`(?<name>[A-Za-z_][A-Za-z0-9_]*)`\s*\(test\)")]
    private static partial Regex InlineCitation();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex Identifier();

    [GeneratedRegex(@"\s+")]
    private static partial Regex WhitespaceRun();
}
