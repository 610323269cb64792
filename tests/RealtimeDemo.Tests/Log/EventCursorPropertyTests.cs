using CsCheck;

namespace RealtimeDemo.Tests.Log;

/// <summary>
/// The cursor parser takes whatever a client sends as <c>after</c> or <c>Last-Event-ID</c>: random text must never
/// make it throw, every cursor the server issues must come back as itself, and nothing but a cursor's one canonical
/// text may be accepted. A failure prints the CsCheck seed that reproduces it (<c>seed:</c> or <c>CsCheck_Seed</c>).
/// </summary>
public sealed class EventCursorPropertyTests
{
    private const string EpochAlphabet = "0123456789abcdefghijklmnopqrstuvwxyz";

    // The parser reads at most 18 digits of seq: every seq the server issues has fewer, and no parse can overflow.
    private const long LargestParsedSeq = 999_999_999_999_999_999;

    // Mostly what cursors are made of, so that random text often comes close to one, plus everything else a header
    // or query string can carry: signs, whitespace, NUL, upper case, other digits, lone surrogates.
    private static readonly Gen<char> CursorishChar = Gen.Frequency(
        (6, Gen.Char[EpochAlphabet]),
        (3, Gen.Char['0', '9']),
        (2, Gen.Const('-')),
        (1, Gen.Char["+ .\t\n\0xXeEAZ_\u0661\uFF11\u00e9"]),
        (1, Gen.Char['\u0080', '\uFFFF']),
        (1, Gen.Char));

    private static readonly Gen<string> RandomText = Gen.Frequency(
        (8, CursorishChar.Array[0, 60]),
        (1, CursorishChar.Array[0, 4000]))
        .Select(chars => new string(chars));

    private static readonly Gen<string> Epoch = Gen.Char[EpochAlphabet].Array[1, 32].Select(chars => new string(chars));

    // Every digit count equally likely, with the edges of each, rather than almost always 18 digits.
    private static readonly Gen<long> IssuableSeq = Gen.Frequency(
        (1, Gen.OneOf(0L, 1L, 9L, 10L, LargestParsedSeq)),
        (6, Gen.Int[1, 18].SelectMany(digits => Gen.Long[digits == 1 ? 0 : Pow10(digits - 1), Pow10(digits) - 1])));

    private static readonly Gen<EventCursor> IssuableCursor = Gen.Select(Epoch, IssuableSeq, (epoch, seq) => new EventCursor(epoch, seq));

    [Fact]
    public void RandomTextNeverThrowsAndOnlyCanonicalCursorTextIsAccepted()
    {
        RandomText.Sample(text =>
        {
            if (EventCursor.TryParse(text, out var cursor))
            {
                Assert.Equal(text, cursor.ToString());
            }
            else
            {
                Assert.Equal(default, cursor);
            }
        }, writeLine: Output, iter: 10_000);
    }

    [Fact]
    public void EveryIssuableCursorFormatsAndParsesBackEqual()
    {
        IssuableCursor.Sample(cursor =>
        {
            var text = cursor.ToString();

            Assert.Equal($"{cursor.Epoch}-{cursor.Seq}", text);
            Assert.True(EventCursor.TryParse(text, out var parsed), $"'{text}' was refused");
            Assert.Equal(cursor, parsed);
        }, writeLine: Output, iter: 20_000);
    }

    [Fact]
    public void SeqBeyondEighteenDigitsIsRefusedUpToLongMaxValue()
    {
        // Above the parser's 18-digit cap a formatted cursor is refused as malformed (EventCursorTests lists
        // long.MaxValue among the malformed texts): never accepted as another value, never an overflow exception.
        Gen.Select(Epoch, Gen.Frequency((1, Gen.OneOf(LargestParsedSeq + 1, long.MaxValue)), (4, Gen.Long[LargestParsedSeq + 1, long.MaxValue])))
            .Sample((epoch, seq) =>
            {
                Assert.False(EventCursor.TryParse(new EventCursor(epoch, seq).ToString(), out var parsed));
                Assert.Equal(default, parsed);
            }, writeLine: Output, iter: 5_000);
    }

    public enum Mutation { Replace, Insert, Delete }

    [Fact]
    public void ASingleCharacterChangedEitherFailsOrIsTheCanonicalTextOfWhatItParsesTo()
    {
        Gen.Select(IssuableCursor, Gen.Enum<Mutation>(), Gen.Int[0, int.MaxValue], CursorishChar)
            .Sample((cursor, mutation, where, character) =>
            {
                var text = cursor.ToString();
                var mutated = mutation switch
                {
                    Mutation.Replace => text.Remove(where % text.Length, 1).Insert(where % text.Length, character.ToString()),
                    Mutation.Insert => text.Insert(where % (text.Length + 1), character.ToString()),
                    _ => text.Remove(where % text.Length, 1),
                };

                if (EventCursor.TryParse(mutated, out var parsed))
                {
                    Assert.Equal(mutated, parsed.ToString());
                    Assert.Equal(mutated == text, parsed == cursor);
                }
                else
                {
                    Assert.Equal(default, parsed);
                }
            }, writeLine: Output, iter: 50_000);
    }

    private static long Pow10(int exponent)
    {
        var value = 1L;
        for (var i = 0; i < exponent; i++)
        {
            value *= 10;
        }

        return value;
    }

    private static void Output(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);
}
