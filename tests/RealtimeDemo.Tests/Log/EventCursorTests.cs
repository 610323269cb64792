
namespace RealtimeDemo.Tests.Log;

/// <summary>The cursor's text form is the resume id clients send back: it must round-trip and reject anything else.</summary>
public sealed class EventCursorTests
{
    [Theory]
    [InlineData("a", 0L)]
    [InlineData("0a1b2c3d4e5f", 1L)]
    [InlineData("abc", 42L)]
    [InlineData("0123456789abcdefghijklmnopqrstuv", 999_999_999_999_999_999L)]
    public void TextFormRoundTrips(string epoch, long seq)
    {
        var cursor = new EventCursor(epoch, seq);

        Assert.Equal($"{epoch}-{seq}", cursor.ToString());
        Assert.True(EventCursor.TryParse(cursor.ToString(), out var parsed));
        Assert.Equal(cursor, parsed);
    }

    [Fact]
    public void ParsesTheEpochAndSeqApart()
    {
        Assert.True(EventCursor.TryParse("deadbeef-1234", out var cursor));

        Assert.Equal("deadbeef", cursor.Epoch);
        Assert.Equal(1234L, cursor.Seq);
    }

    public static TheoryData<string> MalformedCursors => new()
    {
        "",
        "abc",                                          // no dash
        "abc1",                                         // no dash
        "-1",                                           // empty epoch
        "abc-",                                         // empty seq
        "-",
        "ABC-1",                                        // upper-case epoch
        "aBc-1",
        "ab_c-1",                                       // other characters in the epoch
        "ab.c-1",
        "ab-c-1",                                       // a dash inside the epoch
        "é-1",
        "0123456789abcdefghijklmnopqrstuvw-1",          // 33-character epoch
        "abc-+1",                                       // signed seq
        "abc--1",
        "abc-01",                                       // leading zero
        "abc-00",
        "abc-1a",                                       // non-digit seq
        "abc-0x1",
        "abc-1.0",
        "abc-1e3",
        "abc-1234567890123456789",                      // 19 digits
        "abc-9223372036854775807",                      // long.MaxValue is still 19 digits
        "abc-99999999999999999999",                     // would overflow a long
        " abc-1",                                       // whitespace anywhere
        "abc-1 ",
        "abc- 1",
        "abc -1",
        "abc-1\n",
        "\tabc-1",
        "abc-\u0661",                                   // Arabic-Indic digit one
        "abc-\uFF11",                                   // full-width digit one
        "\u0661-1",
        "abc-1\0",
    };

    [Theory]
    [MemberData(nameof(MalformedCursors))]
    public void RejectsMalformedText(string text)
    {
        Assert.False(EventCursor.TryParse(text, out var cursor));
        Assert.Equal(default, cursor);
    }

    [Fact]
    public void RejectsNull()
    {
        Assert.False(EventCursor.TryParse(null, out var cursor));
        Assert.Equal(default, cursor);
    }

    [Theory]
    [InlineData("a", true)]
    [InlineData("0123456789abcdefghijklmnopqrstuv", true)]
    [InlineData("", false)]
    [InlineData("0123456789abcdefghijklmnopqrstuvw", false)]
    [InlineData("A", false)]
    [InlineData("a-b", false)]
    [InlineData("a b", false)]
    public void EpochTextIsOneToThirtyTwoLowerCaseLettersOrDigits(string epoch, bool valid)
    {
        Assert.Equal(valid, EventCursor.IsEpochText(epoch));
    }
}
