using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;

namespace RealtimeDemo.Log;

/// <summary>
/// A reader's position in the log: the stream's epoch and the <c>seq</c> of the last event the reader has.
/// Its text form, <c>{epoch}-{seq}</c>, is the opaque <c>id</c> clients send back to resume.
/// </summary>
/// <remarks>
/// The epoch makes a cursor from another stream (an earlier run of an in-memory host, a lost Redis stream)
/// recognisable as foreign, so it yields a gap signal instead of being mis-read as a position in this one.
/// </remarks>
public readonly record struct EventCursor(string Epoch, long Seq)
{
    private const int MaxEpochLength = 32;
    private const int MaxSeqDigits = 18;
    private static readonly SearchValues<char> EpochCharacters = SearchValues.Create("0123456789abcdefghijklmnopqrstuvwxyz");

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Epoch}-{Seq}");

    /// <summary>Parses the text form; anything else (empty, too long, other characters, a signed or huge seq) is malformed.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out EventCursor cursor)
    {
        cursor = default;
        if (string.IsNullOrEmpty(text) || text.Length > MaxEpochLength + 1 + MaxSeqDigits)
        {
            return false;
        }

        var dash = text.LastIndexOf('-');
        if (dash < 1 || dash > MaxEpochLength || dash == text.Length - 1 || text.Length - dash - 1 > MaxSeqDigits)
        {
            return false;
        }

        var epoch = text.AsSpan(0, dash);
        var seq = text.AsSpan(dash + 1);
        if (!IsEpochText(epoch) || seq.ContainsAnyExceptInRange('0', '9') || (seq.Length > 1 && seq[0] == '0'))
        {
            return false;
        }

        cursor = new EventCursor(epoch.ToString(), long.Parse(seq, NumberStyles.None, CultureInfo.InvariantCulture));
        return true;
    }

    /// <summary>A new random epoch: 12 lower-case hex digits.</summary>
    public static string NewEpoch() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    /// <summary>Whether <paramref name="epoch"/> is a valid epoch: 1–32 lower-case letters or digits.</summary>
    public static bool IsEpochText(ReadOnlySpan<char> epoch) =>
        epoch.Length is > 0 and <= MaxEpochLength && !epoch.ContainsAnyExcept(EpochCharacters);
}
